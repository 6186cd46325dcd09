/*
 * An ALSA PCM opened in the phone's own process, non-blocking, for the paths
 * where the device clock matters: snd_pcm_delay tells how much is queued, so
 * writes can be paced on the device rather than guessed, and snd_pcm_drop
 * discards queued silence when a ring must start now. (alsa-lib PCM API:
 * snd_pcm_open, snd_pcm_set_params, snd_pcm_sw_params, snd_pcm_writei,
 * snd_pcm_readi, snd_pcm_delay, snd_pcm_drop, snd_pcm_prepare, snd_pcm_recover.)
 *
 *   open(name, capture: bool, rate, channels, latencyUs) → handle
 *   write(handle, Int16Array) → frames written (0 when full; -32 after a
 *                                recovered underrun)
 *   read(handle, Int16Array)  → frames read (0 when none)
 *   delay(handle)             → frames queued ahead of the hardware
 *   drop(handle)              → queued frames discarded, ready again
 *   close(handle)
 */
#include <alsa/asoundlib.h>
#include <node_api.h>
#include <stdint.h>

typedef struct { snd_pcm_t *pcm; int channels; } pcm_t;

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[600];
  snprintf(msg, sizeof msg, "%s: %s", what, snd_strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  pcm_t *p = data;
  if (p->pcm) snd_pcm_close(p->pcm);
  free(p);
}

static pcm_t *get(napi_env env, napi_value v) {
  pcm_t *p = NULL;
  napi_get_value_external(env, v, (void **)&p);
  if (!p || !p->pcm) napi_throw_error(env, NULL, "PCM is closed");
  return p && p->pcm ? p : NULL;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  char name[256];
  name[0] = 0;
  size_t len;
  bool capture;
  uint32_t rate, channels, latency;
  if (argc != 5 || napi_get_value_string_utf8(env, a[0], name, sizeof name, &len) != napi_ok ||
      napi_get_value_bool(env, a[1], &capture) != napi_ok || napi_get_value_uint32(env, a[2], &rate) != napi_ok ||
      napi_get_value_uint32(env, a[3], &channels) != napi_ok || napi_get_value_uint32(env, a[4], &latency) != napi_ok) {
    napi_throw_type_error(env, NULL, "open(name, capture, rate, channels, latencyUs)");
    return NULL;
  }
  snd_pcm_t *pcm;
  int err = snd_pcm_open(&pcm, name, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
  if (err < 0) return fail(env, name, err);
  err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, channels, rate, 1, latency);
  if (err < 0) {
    snd_pcm_close(pcm);
    return fail(env, name, err);
  }
  if (!capture) {
    /* Start as soon as anything is written: what is queued is what we decide. */
    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    snd_pcm_sw_params_current(pcm, sw);
    snd_pcm_sw_params_set_start_threshold(pcm, sw, 1);
    snd_pcm_sw_params(pcm, sw);
  } else {
    snd_pcm_start(pcm);
  }
  pcm_t *p = malloc(sizeof *p);
  p->pcm = pcm;
  p->channels = (int)channels;
  napi_value ext;
  napi_create_external(env, p, finalize, NULL, &ext);
  return ext;
}

static napi_value js_io(napi_env env, napi_callback_info info, bool writing) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, a[1], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_int16_array) {
    napi_throw_type_error(env, NULL, "expected an Int16Array");
    return NULL;
  }
  snd_pcm_uframes_t frames = length / (size_t)p->channels;
  snd_pcm_sframes_t n = writing ? snd_pcm_writei(p->pcm, data, frames) : snd_pcm_readi(p->pcm, data, frames);
  int32_t result;
  if (n == -EAGAIN) result = 0;
  else if (n == -EPIPE || n == -ESTRPIPE) {
    int err = snd_pcm_recover(p->pcm, (int)n, 1);
    if (err < 0) return fail(env, writing ? "write" : "read", err);
    if (!writing) snd_pcm_start(p->pcm);
    result = -32;
  } else if (n < 0) return fail(env, writing ? "write" : "read", (int)n);
  else result = (int32_t)n;
  napi_value v;
  napi_create_int32(env, result, &v);
  return v;
}
static napi_value js_write(napi_env env, napi_callback_info info) { return js_io(env, info, true); }
static napi_value js_read(napi_env env, napi_callback_info info) { return js_io(env, info, false); }

static napi_value js_delay(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  snd_pcm_sframes_t d = 0;
  int err = snd_pcm_delay(p->pcm, &d);
  if (err < 0) d = 0; /* not running yet, or just underran: nothing is queued */
  napi_value v;
  napi_create_int32(env, (int32_t)d, &v);
  return v;
}

static napi_value js_drop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  snd_pcm_drop(p->pcm);
  int err = snd_pcm_prepare(p->pcm);
  if (err < 0) return fail(env, "prepare", err);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = NULL;
  napi_get_value_external(env, a[0], (void **)&p);
  if (p && p->pcm) {
    snd_pcm_close(p->pcm);
    p->pcm = NULL;
  }
  return NULL;
}

/* alsa-lib prints its own errors to stderr; ours go up as exceptions instead. */
static void quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
  (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static napi_value init(napi_env env, napi_value exports) {
  snd_lib_error_set_handler(quiet);
  struct { const char *name; napi_callback fn; } fns[] = {
    {"open", js_open}, {"write", js_write}, {"read", js_read}, {"delay", js_delay}, {"drop", js_drop}, {"close", js_close},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
