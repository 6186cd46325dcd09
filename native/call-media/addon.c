/*
 * N-API face of the call media engine (engine.c):
 *
 *   open({address, port, earpiece, microphone, queueFrames, jitterMinMs,
 *         jitterMaxMs, concealMs, ssrc, seq, timestamp, latchWindowMs}, onEvent) → handle
 *   setRemote(h, address, port)   setCodec(h, law 0|1, payloadType)
 *   setEventPt(h, pt | -1)        setDirection(h, sending, receiving)
 *   setPacketTime(h, ms)          (packets sent: 10–60 ms; any size received)
 *   setDevices(h, earpiece | "", microphone | "", handOver)
 *   dropParked() → how many   (devices handed over and not taken: closed)
 *   sendPacket(h, pt, Uint8Array, marker, timestamp)
 *   timestamp(h) → number         skipTimestamp(h, atLeast)
 *   overlay(h, Int16Array) → samples taken   clearOverlay(h)
 *   stats(h) → object             close(h): onEvent({type: "closed"}) follows
 *   g711Encode(law, Int16Array) → Uint8Array   g711Decode(law, Uint8Array) → Int16Array
 *
 * Events reach JavaScript through a thread-safe function: "remote" (RTP now
 * goes to {address, port, ssrc}: a NAT latch or back to the SDP's address,
 * decided while the SDP named {signalled, signalledPort}), "event" (an RFC 4733 packet), "error" and
 * "reopened" (a device), "switched" (the devices asked for are taken up),
 * "closed" (with letGoMs: when it last gave up an open device).
 */
#include <errno.h>
#include <node_api.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "g711.h"

typedef struct {
  engine e;
  napi_threadsafe_function tsfn;
  atomic_int refs; /* the JavaScript handle and the thread-safe function */
  int closed;
  int joined;
} call_t;

static void unref(call_t *c) {
  if (atomic_fetch_sub(&c->refs, 1) == 1) {
    engine_free(&c->e);
    free(c);
  }
}

static void set_str(napi_env env, napi_value o, const char *k, const char *v) {
  napi_value x;
  napi_create_string_utf8(env, v, NAPI_AUTO_LENGTH, &x);
  napi_set_named_property(env, o, k, x);
}
static void set_num(napi_env env, napi_value o, const char *k, double v) {
  napi_value x;
  napi_create_double(env, v, &x);
  napi_set_named_property(env, o, k, x);
}

static void call_js(napi_env env, napi_value fn, void *context, void *data) {
  call_t *c = context;
  engine_event *ev = data;
  if (!ev) return;
  if (ev->kind == EV_CLOSED && !c->joined) {
    engine_join(&c->e); /* the thread has posted its last event and is returning */
    c->joined = 1;
    c->closed = 1;
  }
  if (env && fn) {
    napi_value o, undefined;
    napi_create_object(env, &o);
    switch (ev->kind) {
      case EV_REMOTE:
        set_str(env, o, "type", "remote");
        set_str(env, o, "address", ev->address);
        set_num(env, o, "port", ev->port);
        set_num(env, o, "ssrc", ev->ssrc);
        set_str(env, o, "signalled", ev->signalled);
        set_num(env, o, "signalledPort", ev->signalled_port);
        break;
      case EV_EVENT_PACKET: {
        set_str(env, o, "type", "event");
        void *bytes;
        napi_value ab, u8;
        napi_create_arraybuffer(env, (size_t)ev->length, &bytes, &ab);
        memcpy(bytes, ev->payload, (size_t)ev->length);
        napi_create_typedarray(env, napi_uint8_array, (size_t)ev->length, ab, 0, &u8);
        napi_set_named_property(env, o, "payload", u8);
        set_num(env, o, "timestamp", ev->timestamp);
        set_num(env, o, "marker", ev->marker);
        set_num(env, o, "payloadType", ev->payload_type);
        break;
      }
      case EV_DEVICE_ERROR:
      case EV_DEVICE_OK:
        set_str(env, o, "type", ev->kind == EV_DEVICE_ERROR ? "error" : "reopened");
        set_str(env, o, "device", ev->device);
        set_str(env, o, "message", ev->message);
        break;
      case EV_SWITCHED:
        set_str(env, o, "type", "switched");
        break;
      case EV_CLOSED:
        set_str(env, o, "type", "closed");
        set_num(env, o, "letGoMs", c->e.st.let_go_ms); /* joined: the thread is done with it */
        break;
    }
    napi_get_undefined(env, &undefined);
    napi_call_function(env, undefined, fn, 1, &o, NULL);
  }
  if (ev->kind == EV_CLOSED) napi_release_threadsafe_function(c->tsfn, napi_tsfn_release);
  free(ev);
}

static void notify(void *ctx, engine_event *ev) {
  call_t *c = ctx;
  if (napi_call_threadsafe_function(c->tsfn, ev, napi_tsfn_nonblocking) != napi_ok) free(ev);
}

static void tsfn_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  unref(data);
}

static void handle_finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  call_t *c = data;
  int64_t total;
  napi_adjust_external_memory(env, -(int64_t)sizeof *c, &total);
  if (!c->closed) engine_stop(&c->e); /* dropped without close(): end the thread */
  unref(c);
}

static napi_value undef(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

static int get_int(napi_env env, napi_value o, const char *k, int fallback) {
  napi_value v;
  napi_valuetype t;
  int32_t x;
  if (napi_get_named_property(env, o, k, &v) != napi_ok || napi_typeof(env, v, &t) != napi_ok || t != napi_number) return fallback;
  napi_get_value_int32(env, v, &x);
  return x;
}
static uint32_t get_u32(napi_env env, napi_value o, const char *k) {
  napi_value v;
  uint32_t x = 0;
  if (napi_get_named_property(env, o, k, &v) == napi_ok) napi_get_value_uint32(env, v, &x);
  return x;
}
static int get_str(napi_env env, napi_value o, const char *k, char *out, size_t size) {
  napi_value v;
  size_t len;
  out[0] = 0;
  if (napi_get_named_property(env, o, k, &v) != napi_ok) return 0;
  return napi_get_value_string_utf8(env, v, out, size, &len) == napi_ok && len > 0;
}

static call_t *handle(napi_env env, napi_value v) {
  call_t *c = NULL;
  napi_get_value_external(env, v, (void **)&c);
  if (!c || c->closed) {
    napi_throw_error(env, NULL, "call media is closed");
    return NULL;
  }
  return c;
}

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  char address[64], earpiece[128], microphone[128];
  if (argc != 2 || !get_str(env, a[0], "address", address, sizeof address)) {
    napi_throw_type_error(env, NULL, "open({address, port, ...}, onEvent)");
    return NULL;
  }
  int has_ear = get_str(env, a[0], "earpiece", earpiece, sizeof earpiece);
  int has_mic = get_str(env, a[0], "microphone", microphone, sizeof microphone);
  engine_options o = {
    .earpiece = has_ear ? earpiece : NULL,
    .microphone = has_mic ? microphone : NULL,
    .queue_frames = get_int(env, a[0], "queueFrames", 2),
    .rt_priority = get_int(env, a[0], "realtimePriority", 0),
    .jitter = {.min_units = get_int(env, a[0], "jitterMinMs", 40) / JB_UNIT_MS,
               .max_units = get_int(env, a[0], "jitterMaxMs", 80) / JB_UNIT_MS,
               .conceal_units = get_int(env, a[0], "concealMs", 60) / JB_UNIT_MS},
    .ssrc = get_u32(env, a[0], "ssrc"),
    .seq = (uint16_t)get_u32(env, a[0], "seq"),
    .timestamp = get_u32(env, a[0], "timestamp"),
    .latch_window_ms = get_int(env, a[0], "latchWindowMs", 2000),
  };
  call_t *c = calloc(1, sizeof *c);
  if (!c) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  int err = engine_open(&c->e, &o, address, get_int(env, a[0], "port", 0), notify, c);
  if (err < 0) {
    free(c);
    napi_value msg, e, code;
    char text[160];
    snprintf(text, sizeof text, "RTP socket %s:%d: %s", address, get_int(env, a[0], "port", 0), strerror(-err));
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &e);
    napi_create_string_utf8(env, err == -EADDRINUSE ? "EADDRINUSE" : "EMEDIA", NAPI_AUTO_LENGTH, &code);
    napi_set_named_property(env, e, "code", code);
    napi_throw(env, e);
    return NULL;
  }
  napi_value name;
  napi_create_string_utf8(env, "call-media", NAPI_AUTO_LENGTH, &name);
  atomic_store(&c->refs, 2);
  if (napi_create_threadsafe_function(env, a[1], NULL, name, 0, 1, c, tsfn_finalize, c, call_js, &c->tsfn) != napi_ok) {
    engine_free(&c->e);
    free(c);
    napi_throw_error(env, NULL, "cannot create the event channel");
    return NULL;
  }
  napi_unref_threadsafe_function(env, c->tsfn);
  err = engine_start(&c->e);
  if (err < 0) {
    napi_release_threadsafe_function(c->tsfn, napi_tsfn_abort);
    c->closed = 1;
    napi_throw_error(env, NULL, "cannot start the media thread");
    return NULL;
  }
  napi_value ext;
  napi_create_external(env, c, handle_finalize, NULL, &ext);
  /* The engine (about 90 kB of buffers) lives until V8 collects this handle: tell V8 what
   * it holds, so a phone taking many calls collects ended ones soon (the soak measures it). */
  int64_t total;
  napi_adjust_external_memory(env, (int64_t)sizeof *c, &total);
  return ext;
}

static napi_value args(napi_env env, napi_callback_info info, size_t n, napi_value *a, call_t **c) {
  size_t argc = n;
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  *c = argc >= 1 ? handle(env, a[0]) : NULL;
  if (!*c && argc < 1) napi_throw_type_error(env, NULL, "handle expected");
  return NULL;
}

static napi_value js_set_remote(napi_env env, napi_callback_info info) {
  napi_value a[3];
  call_t *c;
  args(env, info, 3, a, &c);
  if (!c) return NULL;
  char address[64];
  size_t len;
  int32_t port;
  napi_get_value_string_utf8(env, a[1], address, sizeof address, &len);
  napi_get_value_int32(env, a[2], &port);
  engine_set_remote(&c->e, address, port);
  return undef(env);
}

/* The handle and the numbers after it (booleans as 0/1), for the setters. */
static call_t *handle_and_ints(napi_env env, napi_callback_info info, size_t n, int32_t *out) {
  napi_value a[4];
  call_t *c;
  args(env, info, n + 1, a, &c);
  for (size_t i = 0; c && i < n; i++) {
    bool b;
    if (napi_get_value_int32(env, a[i + 1], &out[i]) != napi_ok)
      out[i] = napi_get_value_bool(env, a[i + 1], &b) == napi_ok && b;
  }
  return c;
}

static napi_value js_set_codec(napi_env env, napi_callback_info info) {
  int32_t v[2];
  call_t *c = handle_and_ints(env, info, 2, v);
  if (c) engine_set_codec(&c->e, v[0], v[1]);
  return c ? undef(env) : NULL;
}

static napi_value js_set_event_pt(napi_env env, napi_callback_info info) {
  int32_t v[1];
  call_t *c = handle_and_ints(env, info, 1, v);
  if (c) engine_set_event_pt(&c->e, v[0]);
  return c ? undef(env) : NULL;
}

static napi_value js_set_direction(napi_env env, napi_callback_info info) {
  int32_t v[2];
  call_t *c = handle_and_ints(env, info, 2, v);
  if (c) engine_set_direction(&c->e, v[0], v[1]);
  return c ? undef(env) : NULL;
}

static napi_value js_set_packet_time(napi_env env, napi_callback_info info) {
  int32_t v[1];
  call_t *c = handle_and_ints(env, info, 1, v);
  if (c) engine_set_packet_time(&c->e, v[0]);
  return c ? undef(env) : NULL;
}

static napi_value js_set_devices(napi_env env, napi_callback_info info) {
  napi_value a[4];
  call_t *c;
  args(env, info, 4, a, &c);
  if (!c) return NULL;
  char ear[128], mic[128];
  size_t len;
  bool hand_over = false;
  ear[0] = mic[0] = 0;
  napi_get_value_string_utf8(env, a[1], ear, sizeof ear, &len);
  napi_get_value_string_utf8(env, a[2], mic, sizeof mic, &len);
  napi_get_value_bool(env, a[3], &hand_over);
  engine_set_devices(&c->e, ear, mic, hand_over);
  return undef(env);
}

static napi_value js_drop_parked(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value n;
  napi_create_int32(env, devices_drop_parked(), &n);
  return n;
}

static napi_value js_send_packet(napi_env env, napi_callback_info info) {
  napi_value a[5];
  call_t *c;
  args(env, info, 5, a, &c);
  if (!c) return NULL;
  int32_t pt;
  bool marker;
  uint32_t ts;
  void *data;
  size_t length;
  napi_get_value_int32(env, a[1], &pt);
  napi_get_typedarray_info(env, a[2], NULL, &length, &data, NULL, NULL);
  napi_get_value_bool(env, a[3], &marker);
  napi_get_value_uint32(env, a[4], &ts);
  napi_value r;
  napi_create_int32(env, engine_send_packet(&c->e, pt, data, (int)length, marker, ts), &r);
  return r;
}

static napi_value js_timestamp(napi_env env, napi_callback_info info) {
  napi_value a[1];
  call_t *c;
  args(env, info, 1, a, &c);
  if (!c) return NULL;
  napi_value r;
  napi_create_uint32(env, engine_timestamp(&c->e), &r);
  return r;
}

static napi_value js_skip_timestamp(napi_env env, napi_callback_info info) {
  napi_value a[2];
  call_t *c;
  args(env, info, 2, a, &c);
  if (!c) return NULL;
  uint32_t ts;
  napi_get_value_uint32(env, a[1], &ts);
  engine_skip_timestamp(&c->e, ts);
  return undef(env);
}

static napi_value js_overlay(napi_env env, napi_callback_info info) {
  napi_value a[2];
  call_t *c;
  args(env, info, 2, a, &c);
  if (!c) return NULL;
  void *data;
  size_t length;
  napi_typedarray_type t;
  napi_get_typedarray_info(env, a[1], &t, &length, &data, NULL, NULL);
  if (t != napi_int16_array) {
    napi_throw_type_error(env, NULL, "overlay(handle, Int16Array)");
    return NULL;
  }
  napi_value r;
  napi_create_int32(env, engine_overlay(&c->e, data, (int)length), &r);
  return r;
}

static napi_value js_clear_overlay(napi_env env, napi_callback_info info) {
  napi_value a[1];
  call_t *c;
  args(env, info, 1, a, &c);
  if (!c) return NULL;
  engine_clear_overlay(&c->e);
  return undef(env);
}

static napi_value js_stats(napi_env env, napi_callback_info info) {
  napi_value a[1];
  call_t *c;
  args(env, info, 1, a, &c);
  if (!c) return NULL;
  engine_stats s;
  engine_stats_get(&c->e, &s);
  napi_value o;
  napi_create_object(env, &o);
  set_num(env, o, "threadId", atomic_load(&c->e.tid));
  set_num(env, o, "realtime", atomic_load(&c->e.realtime));
  set_num(env, o, "sent", (double)s.sent);
  set_num(env, o, "octets", (double)s.octets);
  set_num(env, o, "received", (double)s.received);
  set_num(env, o, "expected", (double)s.expected);
  set_num(env, o, "highestSeq", s.highest_seq);
  if (s.have_remote_ssrc) set_num(env, o, "remoteSsrc", s.remote_ssrc);
  set_num(env, o, "strangers", (double)s.strangers);
  set_num(env, o, "micFrames", (double)s.mic_frames);
  set_num(env, o, "micShort", (double)s.mic_short);
  set_num(env, o, "micDropped", (double)s.mic_dropped);
  set_num(env, o, "earFrames", (double)s.ear_frames);
  set_num(env, o, "earUnderruns", (double)s.ear_underruns);
  set_num(env, o, "jbReceived", (double)s.jb.received);
  set_num(env, o, "jbPlayed", (double)s.jb.played);
  set_num(env, o, "jbConcealed", (double)s.jb.concealed);
  set_num(env, o, "jbLate", (double)s.jb.late);
  set_num(env, o, "jbDropped", (double)s.jb.dropped);
  set_num(env, o, "jbUnderruns", (double)s.jb.underruns);
  set_num(env, o, "jitterMs", s.jb.jitter_ms);
  set_num(env, o, "targetMs", s.jb.target_ms);
  set_num(env, o, "micOpenMs", s.mic_open_ms);
  set_num(env, o, "earOpenMs", s.ear_open_ms);
  set_num(env, o, "firstMicSentMs", s.first_mic_sent_ms);
  set_num(env, o, "firstEarMs", s.first_ear_ms);
  set_num(env, o, "firstHeardMs", s.first_heard_ms);
  set_num(env, o, "firstReceivedMs", s.first_received_ms);
  set_num(env, o, "firstSoundMs", s.first_sound_ms);
  set_num(env, o, "letGoMs", s.let_go_ms);
  return o;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  call_t *c = NULL;
  napi_get_value_external(env, a[0], (void **)&c);
  if (c && !c->closed) engine_stop(&c->e); /* "closed" follows when the thread has let go */
  return undef(env);
}

static napi_value js_g711(napi_env env, napi_callback_info info, int encode) {
  size_t argc = 2;
  napi_value a[2];
  napi_get_cb_info(env, info, &argc, a, NULL, NULL);
  int32_t law;
  void *in;
  size_t n;
  napi_get_value_int32(env, a[0], &law);
  if (napi_get_typedarray_info(env, a[1], NULL, &n, &in, NULL, NULL) != napi_ok) {
    napi_throw_type_error(env, NULL, "typed array expected");
    return NULL;
  }
  g711_init();
  void *out;
  napi_value ab, r;
  napi_create_arraybuffer(env, n * (encode ? 1 : 2), &out, &ab);
  if (encode) g711_encode(law, in, out, n);
  else g711_decode(law, in, out, n);
  napi_create_typedarray(env, encode ? napi_uint8_array : napi_int16_array, n, ab, 0, &r);
  return r;
}
static napi_value js_g711_encode(napi_env env, napi_callback_info info) { return js_g711(env, info, 1); }
static napi_value js_g711_decode(napi_env env, napi_callback_info info) { return js_g711(env, info, 0); }

static void quiet(const char *file, int line, const char *function, int err, const char *fmt, ...) {
  (void)file; (void)line; (void)function; (void)err; (void)fmt;
}

static napi_value init(napi_env env, napi_value exports) {
  snd_lib_error_set_handler(quiet); /* errors are reported as events instead */
  struct { const char *name; napi_callback fn; } fns[] = {
      {"open", js_open}, {"setRemote", js_set_remote}, {"setCodec", js_set_codec},
      {"setPacketTime", js_set_packet_time},
      {"setEventPt", js_set_event_pt}, {"setDirection", js_set_direction}, {"setDevices", js_set_devices}, {"sendPacket", js_send_packet},
      {"timestamp", js_timestamp}, {"skipTimestamp", js_skip_timestamp}, {"overlay", js_overlay},
      {"clearOverlay", js_clear_overlay}, {"dropParked", js_drop_parked}, {"stats", js_stats}, {"close", js_close},
      {"g711Encode", js_g711_encode}, {"g711Decode", js_g711_decode},
  };
  for (size_t i = 0; i < sizeof fns / sizeof *fns; i++) {
    napi_value f;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &f);
    napi_set_named_property(env, exports, fns[i].name, f);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
