/*
 * An ALSA PCM opened in the phone's own process, non-blocking, for the paths
 * where the device clock matters: snd_pcm_delay tells how much is queued, so
 * writes can be paced on the device rather than guessed, and snd_pcm_drop
 * discards queued audio when a ring must start now. (alsa-lib PCM API:
 * snd_pcm_open, snd_pcm_set_params, snd_pcm_sw_params, snd_pcm_writei,
 * snd_pcm_readi, snd_pcm_delay, snd_pcm_drop, snd_pcm_prepare, snd_pcm_recover,
 * snd_pcm_get_params, snd_pcm_poll_descriptors, snd_pcm_poll_descriptors_revents.)
 *
 *   open(name, capture: bool, rate, channels, latencyUs) → handle
 *   write(handle, Int16Array) → frames written (0 when full; -32 after a
 *                                recovered underrun)
 *   read(handle, Int16Array)  → frames read (0 when none)
 *   delay(handle)             → frames queued ahead of the hardware
 *   drop(handle)              → queued frames discarded, ready again
 *   close(handle)
 *
 * The ring loop: a rendered buffer played by a thread of its own, so a ring
 * that has started never waits for JavaScript's event loop again.
 *
 *   loopStart(handle, first: Int16Array, samples, repeat: bool, rtPriority)
 *       what is queued is dropped; a buffer of `samples` is begun with `first`
 *       and a thread writes it (over and over when `repeat`) until loopStop;
 *       the thread asks for SCHED_FIFO at rtPriority (0: not)
 *   loopAppend(handle, Int16Array)  the buffer's next rendered part
 *   loopStatus(handle) → { underruns, done, error, realtime }
 *       underruns: recovered on this handle so far; done: a buffer played
 *       once has left the device; error: the ALSA error that ended the thread;
 *       realtime: the thread got SCHED_FIFO
 *   loopStop(handle)   the thread (if any) joined, what is queued dropped, ready again
 *
 * While the thread runs it alone touches the PCM: write/read/delay/drop throw.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  snd_pcm_t *pcm;
  int channels;
  unsigned rate;
  /* The ring loop. `looping` is the JavaScript thread's own; the rest under `mu`,
   * but buf[0, filled) which the thread reads freely (JavaScript writes only past it). */
  int looping;
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t more;
  int wake[2];
  int16_t *buf;
  size_t len, filled;
  int repeat, quit, done, err;
  /* The thread asleep on the wake pipe alone, the stream stopped: a tone (or the
   * silence after a ring) heard to its end. No wake-ups until the next loopStart. */
  int parked;
  int rt_priority, realtime;
  uint32_t underruns;
} pcm_t;

static napi_value fail(napi_env env, const char *what, int err) {
  char msg[600];
  snprintf(msg, sizeof msg, "%s: %s", what, snd_strerror(err));
  napi_throw_error(env, NULL, msg);
  return NULL;
}

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

/* ---- the loop's thread ---- */

/* snd_pcm_drop stops the stream at once, discarding what is queued (state SETUP);
 * snd_pcm_prepare makes it ready, and the next write starts it (start threshold 1). */
static int drop_now(pcm_t *p) {
  snd_pcm_drop(p->pcm);
  return snd_pcm_prepare(p->pcm);
}


static void set_err(pcm_t *p, int err) {
  pthread_mutex_lock(&p->mu);
  p->err = err;
  pthread_mutex_unlock(&p->mu);
}

/* Sleeps until the PCM can take more (with `pcm`; otherwise only the clock), or
 * the wake pipe says stop; at most `ms`. The wake pipe is fds[nfds]. */
static void wait_for(pcm_t *p, struct pollfd *fds, int nfds, int pcm, int ms) {
  struct pollfd *from = pcm ? fds : fds + nfds;
  if (poll(from, pcm ? (nfds_t)nfds + 1 : 1, ms) <= 0) return;
  if (fds[nfds].revents & POLLIN) {
    char drain[16];
    while (read(p->wake[0], drain, sizeof drain) > 0) {
    }
  }
  unsigned short revents; /* the PCM's own reading of its descriptors (plugins need it) */
  if (pcm) snd_pcm_poll_descriptors_revents(p->pcm, fds, (unsigned)nfds, &revents);
}

static void *loop_thread(void *arg) {
  pcm_t *p = arg;
  /* Real-time scheduling where the process may (root, CAP_SYS_NICE, RLIMIT_RTPRIO: the
   * unit's LimitRTPRIO), as the call media thread: the ring is not late behind a loaded
   * machine's other processes. Otherwise it runs as any other thread. */
  if (p->rt_priority > 0) {
    struct sched_param sp = {.sched_priority = p->rt_priority};
    int rt = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0;
    pthread_mutex_lock(&p->mu);
    p->realtime = rt;
    pthread_mutex_unlock(&p->mu);
  }
  snd_pcm_uframes_t buffer = 0, period = 0;
  snd_pcm_get_params(p->pcm, &buffer, &period);
  if (!period) period = 256;
  int nfds = snd_pcm_poll_descriptors_count(p->pcm);
  if (nfds < 0) nfds = 0;
  struct pollfd *fds = calloc((size_t)nfds + 1, sizeof *fds);
  int16_t *silence = calloc(period * (size_t)p->channels, sizeof *silence);
  if (!fds || !silence) {
    set_err(p, -ENOMEM);
    free(fds);
    free(silence);
    return NULL;
  }
  snd_pcm_poll_descriptors(p->pcm, fds, (unsigned)nfds);
  fds[nfds].fd = p->wake[0];
  fds[nfds].events = POLLIN;
  size_t ch = (size_t)p->channels, pos = 0;
  snd_pcm_uframes_t tail = 0; /* silence written after a buffer played once */
  /* A device that never makes us wait (ALSA's null plugin, a file) would take the
   * buffer as fast as we write it: until it first answers -EAGAIN, the thread keeps
   * to the clock, at most one device buffer ahead of real time. A real card makes
   * us wait once its buffer is full, and from then on its clock alone paces us. */
  int paced = 0;
  uint64_t t0 = 0, written = 0;
  for (;;) {
    pthread_mutex_lock(&p->mu);
    if (p->repeat && pos == p->len && p->filled == p->len) pos = 0;
    while (!p->quit && p->filled - pos < ch && pos < p->len) pthread_cond_wait(&p->more, &p->mu); /* still rendering */
    int quit = p->quit;
    size_t filled = p->filled;
    pthread_mutex_unlock(&p->mu);
    if (quit) break;
    const int16_t *src = silence;
    snd_pcm_uframes_t frames = period;
    if (filled - pos >= ch) {
      src = p->buf + pos;
      if ((filled - pos) / ch < frames) frames = (filled - pos) / ch;
    }
    if (!paced) {
      uint64_t now = now_ns();
      if (!t0) t0 = now, written = 0;
      uint64_t allowed = (now - t0) * p->rate / 1000000000ull + buffer;
      if (written >= allowed) {
        wait_for(p, fds, nfds, 0, (int)((written - allowed) * 1000 / p->rate) + 1);
        continue;
      }
    }
    snd_pcm_sframes_t n = snd_pcm_writei(p->pcm, src, frames);
    if (n == -EAGAIN) { /* the device's buffer is full: wait for a period's room */
      paced = 1;
      wait_for(p, fds, nfds, 1, 500);
      continue;
    }
    if (n == -EPIPE || n == -ESTRPIPE) { /* underrun (or suspend): prepare and go on */
      pthread_mutex_lock(&p->mu);
      p->underruns++;
      pthread_mutex_unlock(&p->mu);
      int err = snd_pcm_recover(p->pcm, (int)n, 1);
      if (err < 0) {
        set_err(p, err);
        break;
      }
      t0 = 0;
      continue;
    }
    if (n < 0) {
      set_err(p, (int)n);
      break;
    }
    written += (uint64_t)n;
    if (src != silence) {
      pos += (size_t)n * ch;
    } else if (tail < buffer && (tail += (snd_pcm_uframes_t)n) >= buffer) {
      pthread_mutex_lock(&p->mu); /* a whole buffer of silence behind it: it was heard */
      p->done = 1;
      pthread_mutex_unlock(&p->mu);
      if (!p->repeat) {
        /* Nothing more to play: stop the stream (snd_pcm_drop discards only silence now,
         * the device's whole buffer being silence) and sleep until told to quit, so an
         * idle phone's ringer costs no wake-ups. A stopped jack-plugin stream repeats its
         * last period: silence here. snd_pcm_prepare leaves it ready for the next ring. */
        drop_now(p);
        pthread_mutex_lock(&p->mu);
        p->parked = 1;
        int q = p->quit;
        pthread_mutex_unlock(&p->mu);
        while (!q) { /* loop_join sets quit, then writes the wake pipe */
          wait_for(p, fds, nfds, 0, -1);
          pthread_mutex_lock(&p->mu);
          q = p->quit;
          pthread_mutex_unlock(&p->mu);
        }
        break;
      }
    }
  }
  free(fds);
  free(silence);
  return NULL;
}

/* Ends the thread, if one runs (JavaScript's thread). */
static void loop_join(pcm_t *p) {
  if (!p->looping) return;
  pthread_mutex_lock(&p->mu);
  p->quit = 1;
  pthread_cond_signal(&p->more);
  pthread_mutex_unlock(&p->mu);
  (void)!write(p->wake[1], "q", 1);
  pthread_join(p->thread, NULL);
  p->looping = 0;
  char drain[16];
  while (read(p->wake[0], drain, sizeof drain) > 0) {
  }
}

static void release(pcm_t *p) {
  loop_join(p);
  if (p->pcm) snd_pcm_close(p->pcm);
  p->pcm = NULL;
}

/* ---- JavaScript's face ---- */

static void finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  pcm_t *p = data;
  release(p);
  close(p->wake[0]);
  close(p->wake[1]);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->more);
  free(p->buf);
  free(p);
}

static pcm_t *get(napi_env env, napi_value v) {
  pcm_t *p = NULL;
  napi_get_value_external(env, v, (void **)&p);
  if (!p || !p->pcm) napi_throw_error(env, NULL, "PCM is closed");
  return p && p->pcm ? p : NULL;
}

/* The handle, not playing a loop: the PCM is JavaScript's to use. */
static pcm_t *get_idle(napi_env env, napi_value v) {
  pcm_t *p = get(env, v);
  if (p && p->looping) {
    napi_throw_error(env, NULL, "PCM is playing a loop");
    return NULL;
  }
  return p;
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
      napi_get_value_uint32(env, a[3], &channels) != napi_ok || napi_get_value_uint32(env, a[4], &latency) != napi_ok ||
      channels < 1 || channels > 8 || rate < 1) {
    napi_throw_type_error(env, NULL, "open(name, capture, rate, channels, latencyUs)");
    return NULL;
  }
  snd_pcm_t *pcm;
  int err = snd_pcm_open(&pcm, name, capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
  if (err < 0) return fail(env, name, err);
  /* snd_pcm_set_params: the buffer is `latency` long, in periods of a quarter of it. */
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
  pcm_t *p = calloc(1, sizeof *p);
  if (!p || pipe2(p->wake, O_NONBLOCK | O_CLOEXEC) < 0) {
    free(p);
    snd_pcm_close(pcm);
    return fail(env, name, -ENOMEM);
  }
  p->pcm = pcm;
  p->channels = (int)channels;
  p->rate = rate;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->more, NULL);
  napi_value ext;
  napi_create_external(env, p, finalize, NULL, &ext);
  return ext;
}

static bool int16_arg(napi_env env, napi_value v, int16_t **data, size_t *length) {
  napi_typedarray_type type;
  if (napi_get_typedarray_info(env, v, &type, length, (void **)data, NULL, NULL) != napi_ok || type != napi_int16_array) {
    napi_throw_type_error(env, NULL, "expected an Int16Array");
    return false;
  }
  return true;
}

static napi_value js_io(napi_env env, napi_callback_info info, bool writing) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get_idle(env, a[0]);
  if (!p) return NULL;
  int16_t *data;
  size_t length;
  if (!int16_arg(env, a[1], &data, &length)) return NULL;
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
  pcm_t *p = get_idle(env, a[0]);
  if (!p) return NULL;
  snd_pcm_sframes_t d = 0;
  /* snd_pcm_avail first: it syncs the hardware pointer, so an underrun shows here
   * (-EPIPE). snd_pcm_delay alone did not on an ioplug device (the lab's clock-paced
   * one): it went on reporting the queue from before, and the timer path never wrote
   * again. */
  int err = snd_pcm_avail(p->pcm) < 0 ? -EPIPE : snd_pcm_delay(p->pcm, &d);
  if (err < 0) d = 0; /* not running yet, or just underran: nothing is queued */
  napi_value v;
  napi_create_int32(env, (int32_t)d, &v);
  return v;
}

static napi_value js_drop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get_idle(env, a[0]);
  if (!p) return NULL;
  int err = drop_now(p);
  if (err < 0) return fail(env, "prepare", err);
  return NULL;
}

static napi_value js_loop_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = argc == 5 ? get(env, a[0]) : NULL;
  if (!p) {
    if (argc != 5) napi_throw_type_error(env, NULL, "loopStart(handle, first, samples, repeat, rtPriority)");
    return NULL;
  }
  int16_t *first;
  size_t n;
  uint32_t samples, priority;
  bool repeat;
  if (!int16_arg(env, a[1], &first, &n)) return NULL;
  if (napi_get_value_uint32(env, a[2], &samples) != napi_ok || napi_get_value_bool(env, a[3], &repeat) != napi_ok ||
      napi_get_value_uint32(env, a[4], &priority) != napi_ok || priority > 99 ||
      samples == 0 || samples % (uint32_t)p->channels || n > samples) {
    napi_throw_type_error(env, NULL, "loopStart: samples must be > 0, whole frames, and at least first's length");
    return NULL;
  }
  loop_join(p);
  int err = drop_now(p);
  if (err < 0) return fail(env, "prepare", err);
  int16_t *buf = malloc((size_t)samples * sizeof *buf);
  if (!buf) return fail(env, "loopStart", -ENOMEM);
  memcpy(buf, first, n * sizeof *buf);
  free(p->buf);
  p->buf = buf;
  p->len = samples;
  p->filled = n;
  p->repeat = repeat;
  p->rt_priority = (int)priority;
  p->quit = p->done = p->err = p->realtime = p->parked = 0;
  err = pthread_create(&p->thread, NULL, loop_thread, p);
  if (err) return fail(env, "loopStart", -err);
  p->looping = 1;
  return NULL;
}

static napi_value js_loop_append(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  int16_t *more;
  size_t n;
  if (!int16_arg(env, a[1], &more, &n)) return NULL;
  pthread_mutex_lock(&p->mu);
  if (n > p->len - p->filled) n = p->len - p->filled;
  memcpy(p->buf + p->filled, more, n * sizeof *more); /* past what the thread reads */
  p->filled += n;
  pthread_cond_signal(&p->more);
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

static napi_value js_loop_status(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  pthread_mutex_lock(&p->mu);
  uint32_t underruns = p->underruns;
  int done = p->done, err = p->err, realtime = p->realtime, parked = p->parked;
  pthread_mutex_unlock(&p->mu);
  napi_value o, v;
  napi_create_object(env, &o);
  napi_create_uint32(env, underruns, &v);
  napi_set_named_property(env, o, "underruns", v);
  napi_get_boolean(env, done, &v);
  napi_set_named_property(env, o, "done", v);
  if (err) napi_create_string_utf8(env, snd_strerror(err), NAPI_AUTO_LENGTH, &v);
  else napi_get_null(env, &v);
  napi_set_named_property(env, o, "error", v);
  napi_get_boolean(env, realtime, &v);
  napi_set_named_property(env, o, "realtime", v);
  napi_get_boolean(env, parked, &v);
  napi_set_named_property(env, o, "parked", v);
  return o;
}

static napi_value js_loop_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = get(env, a[0]);
  if (!p) return NULL;
  loop_join(p);
  int err = drop_now(p); /* nothing of the ring is left queued */
  if (err < 0) return fail(env, "prepare", err);
  return NULL;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  pcm_t *p = NULL;
  napi_get_value_external(env, a[0], (void **)&p);
  if (p) release(p);
  return NULL;
}

/* alsa-lib prints its own errors to stderr; ours go up as exceptions instead. */
static void quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
  (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static napi_value init(napi_env env, napi_value exports) {
  snd_lib_error_set_handler(quiet);
  struct { const char *name; napi_callback fn; } fns[] = {
    {"open", js_open}, {"write", js_write}, {"read", js_read}, {"delay", js_delay}, {"drop", js_drop},
    {"close", js_close}, {"loopStart", js_loop_start}, {"loopAppend", js_loop_append},
    {"loopStatus", js_loop_status}, {"loopStop", js_loop_stop},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
