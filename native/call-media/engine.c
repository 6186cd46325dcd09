#define _GNU_SOURCE
#include "engine.h"
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include "g711.h"

#define TICK_NS 20000000L
#define RETRY_TICKS 100 /* a missing device is tried again every 2 s */

static void post(engine *e, engine_event *ev) {
  if (e->notify) e->notify(e->ctx, ev);
  else free(ev);
}

static engine_event *event_new(event_kind kind) {
  engine_event *ev = calloc(1, sizeof *ev);
  if (ev) ev->kind = kind;
  return ev;
}

static void report(engine *e, device *d, event_kind kind, const char *message) {
  engine_event *ev = event_new(kind);
  if (!ev) return;
  snprintf(ev->device, sizeof ev->device, "%s", d->name);
  snprintf(ev->message, sizeof ev->message, "%s", message ? message : "");
  post(e, ev);
}

/* ---- ALSA devices (alsa-lib PCM API: snd_pcm_open, snd_pcm_set_params) ---- */

static void device_close(device *d) {
  if (!d->pcm) return;
  snd_pcm_drop(d->pcm);
  snd_pcm_close(d->pcm);
  d->pcm = NULL;
}

static void device_fail(engine *e, device *d, const char *what, int err) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", what, snd_strerror(err));
  device_close(d);
  d->retry_tick = e->ticks + RETRY_TICKS;
  if (!d->failed) report(e, d, EV_DEVICE_ERROR, msg); /* once per outage */
  d->failed = 1;
}

/* Takes up the device JavaScript asked for (or none); 1 if it changed. */
static int device_switch(device *d) {
  if (strcmp(d->want, d->name) == 0) return 0;
  device_close(d);
  memcpy(d->name, d->want, sizeof d->name);
  d->failed = 0;
  d->retry_tick = 0;
  return 1;
}

static void device_open(engine *e, device *d) {
  if (!d->name[0] || d->pcm || e->ticks < d->retry_tick) return;
  snd_pcm_t *pcm;
  int err = snd_pcm_open(&pcm, d->name, d->capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
                         SND_PCM_NONBLOCK);
  if (err < 0) return device_fail(e, d, "open", err);
  /* 8 kHz mono S16; alsa-lib converts the rate when the card runs at 48 kHz. */
  unsigned latency = (unsigned)(e->queue_frames + 2) * 20000;
  err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, 8000, 1, latency);
  if (err < 0) {
    snd_pcm_close(pcm);
    return device_fail(e, d, "set_params", err);
  }
  d->pcm = pcm;
  if (!d->capture) { /* start with the first frame, not when the buffer is full */
    snd_pcm_sw_params_t *sw;
    snd_pcm_sw_params_alloca(&sw);
    snd_pcm_sw_params_current(pcm, sw);
    snd_pcm_sw_params_set_start_threshold(pcm, sw, FRAME);
    snd_pcm_sw_params(pcm, sw);
  }
  if (d->capture) {
    snd_pcm_start(pcm);
    e->mic_fill = 0;
    e->mic_primed = 0;
  } else {
    e->ear_primed = 0;
  }
  if (d->failed) report(e, d, EV_DEVICE_OK, "reopened");
  d->failed = 0;
}

/* ---- microphone: one frame a tick from a small FIFO ---- */

static void capture_frame(engine *e, int16_t *out) {
  device *d = &e->mic;
  if (d->pcm) {
    /* At most two frames a tick: a device that runs fast is trimmed below. */
    int room = MIC_FIFO - e->mic_fill;
    if (room > 2 * FRAME) room = 2 * FRAME;
    snd_pcm_sframes_t n = snd_pcm_readi(d->pcm, e->mic_fifo + e->mic_fill, (snd_pcm_uframes_t)room);
    if (n > 0) e->mic_fill += (int)n;
    else if (n < 0 && n != -EAGAIN) {
      int err = snd_pcm_recover(d->pcm, (int)n, 1); /* overrun: prepare again */
      if (err < 0) device_fail(e, d, "read", err);
      else snd_pcm_start(d->pcm);
    }
  }
  if (e->mic_fill >= FRAME && (e->mic_primed || e->mic_fill >= 2 * FRAME)) e->mic_primed = 1;
  if (e->mic_primed && e->mic_fill >= FRAME) {
    memcpy(out, e->mic_fifo, FRAME * sizeof *out);
    memmove(e->mic_fifo, e->mic_fifo + FRAME, (size_t)(e->mic_fill - FRAME) * sizeof *out);
    e->mic_fill -= FRAME;
    e->st.mic_frames++;
    if (e->mic_fill > 2 * FRAME) { /* the device clock runs ahead of ours: drop a frame */
      memmove(e->mic_fifo, e->mic_fifo + FRAME, (size_t)(e->mic_fill - FRAME) * sizeof *out);
      e->mic_fill -= FRAME;
      e->st.mic_dropped++;
    }
    return;
  }
  memset(out, 0, FRAME * sizeof *out);
  if (e->mic_primed) e->st.mic_short++;
}

/* ---- RTP (RFC 3550 §5.1) ---- */

static int send_rtp(engine *e, int pt, const uint8_t *payload, int length, int marker, uint32_t ts) {
  if (!e->have_remote || length > 1400) return 0;
  uint8_t p[12 + 1400];
  p[0] = 0x80; /* V=2, no padding, extension or CSRC */
  p[1] = (uint8_t)((marker ? 0x80 : 0) | (pt & 0x7f));
  p[2] = (uint8_t)(e->seq >> 8);
  p[3] = (uint8_t)e->seq;
  p[4] = (uint8_t)(ts >> 24);
  p[5] = (uint8_t)(ts >> 16);
  p[6] = (uint8_t)(ts >> 8);
  p[7] = (uint8_t)ts;
  p[8] = (uint8_t)(e->ssrc >> 24);
  p[9] = (uint8_t)(e->ssrc >> 16);
  p[10] = (uint8_t)(e->ssrc >> 8);
  p[11] = (uint8_t)e->ssrc;
  memcpy(p + 12, payload, (size_t)length);
  e->seq++;
  e->st.sent++;
  e->st.octets += (uint64_t)length;
  ssize_t n = sendto(e->sock, p, (size_t)(12 + length), MSG_DONTWAIT, (struct sockaddr *)&e->remote, sizeof e->remote);
  return n < 0 ? -errno : 1;
}

static void send_audio(engine *e, const int16_t *pcm) {
  if (e->sending && e->have_remote) {
    uint8_t payload[FRAME];
    g711_encode(e->law, pcm, payload, FRAME);
    send_rtp(e, e->payload_type, payload, FRAME, !e->first_sent, e->timestamp);
    e->first_sent = 1;
  }
  e->timestamp += FRAME;
}

static void track(engine *e, uint16_t seq) {
  e->st.received++;
  if (!e->have_first) {
    e->have_first = 1;
    e->first_seq = e->max_seq = seq;
    return;
  }
  if (seq_delta(e->max_seq, seq) > 0) {
    if (seq < e->max_seq) e->cycles += 0x10000;
    e->max_seq = seq;
  }
}

static double arrival_ms(struct msghdr *m) {
  for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c; c = CMSG_NXTHDR(m, c))
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
      struct timespec t;
      memcpy(&t, CMSG_DATA(c), sizeof t);
      return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
    }
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void receive_one(engine *e, const uint8_t *b, int n, const struct sockaddr_in *from, double arrival) {
  if (n < 12 || (b[0] >> 6) != 2) return;
  if (b[1] >= 200 && b[1] <= 204) return; /* RTCP on the RTP port (RFC 5761 §4) */
  int offset = 12 + (b[0] & 0x0f) * 4;
  if (b[0] & 0x10) { /* header extension (§5.3.1) */
    if (n < offset + 4) return;
    offset += 4 + ((b[offset + 2] << 8) | b[offset + 3]) * 4;
  }
  int end = n;
  if (b[0] & 0x20) end -= b[n - 1]; /* padding */
  if (offset > end) return;
  int pt = b[1] & 0x7f;
  int is_audio = pt == e->payload_type;
  int is_event = e->event_pt >= 0 && pt == e->event_pt;
  if (!is_audio && !is_event) return;
  uint16_t seq = (uint16_t)((b[2] << 8) | b[3]);
  uint32_t ts = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
  /* Symmetric RTP (RFC 4961): answer to where the media comes from. */
  if (!e->have_remote || e->remote.sin_addr.s_addr != from->sin_addr.s_addr || e->remote.sin_port != from->sin_port) {
    e->remote = *from;
    e->have_remote = 1;
    engine_event *ev = event_new(EV_REMOTE);
    if (ev) {
      inet_ntop(AF_INET, &from->sin_addr, ev->address, sizeof ev->address);
      ev->port = ntohs(from->sin_port);
      post(e, ev);
    }
  }
  e->st.remote_ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
  e->st.have_remote_ssrc = 1;
  track(e, seq);
  if (is_event) { /* RFC 4733 events are read in JavaScript: rare, and not timed */
    engine_event *ev = event_new(EV_EVENT_PACKET);
    if (!ev) return;
    ev->length = end - offset > (int)sizeof ev->payload ? (int)sizeof ev->payload : end - offset;
    memcpy(ev->payload, b + offset, (size_t)ev->length);
    ev->timestamp = ts;
    ev->marker = (b[1] & 0x80) != 0;
    ev->payload_type = pt;
    post(e, ev);
    return;
  }
  if (!e->receiving) return;
  int16_t pcm[FRAME];
  int len = end - offset > FRAME ? FRAME : end - offset;
  g711_decode(e->law, b + offset, pcm, (size_t)len);
  if (len < FRAME) memset(pcm + len, 0, (size_t)(FRAME - len) * sizeof *pcm);
  jb_push(&e->jb, seq, pcm, ts / 8.0, arrival);
}

static void receive_all(engine *e) {
  for (int i = 0; i < 32; i++) {
    uint8_t b[1500];
    char control[64];
    struct sockaddr_in from;
    struct iovec iov = {b, sizeof b};
    struct msghdr m = {&from, sizeof from, &iov, 1, control, sizeof control, 0};
    ssize_t n = recvmsg(e->sock, &m, MSG_DONTWAIT);
    if (n < 0) return;
    receive_one(e, b, (int)n, &from, arrival_ms(&m));
  }
}

/* ---- earpiece: written as fast as the device plays, never ahead of it ---- */

static void play_frame(engine *e, int16_t *frame) {
  if (e->receiving) jb_read(&e->jb, frame);
  else memset(frame, 0, FRAME * sizeof *frame);
  for (int i = 0; i < FRAME && e->overlay_count > 0; i++) {
    int v = frame[i] + e->overlay[e->overlay_head];
    frame[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    e->overlay_head = (e->overlay_head + 1) % OVERLAY_SAMPLES;
    e->overlay_count--;
  }
}

static void playback_tick(engine *e) {
  device *d = &e->ear;
  int16_t frame[FRAME];
  if (!d->pcm) { /* no earpiece: the jitter buffer is still drained on time */
    play_frame(e, frame);
    return;
  }
  /* A frame a tick on our clock, `queue_frames` ahead. A device that reports
   * its queue (a paced card) gets a frame more when it ran ahead of our clock
   * and none when it fell behind; one that does not (a file) gets one a tick. */
  snd_pcm_sframes_t delay = 0;
  int writes = 1, priming = 0;
  if (!e->ear_primed || snd_pcm_delay(d->pcm, &delay) < 0 || snd_pcm_state(d->pcm) == SND_PCM_STATE_XRUN) {
    if (e->ear_primed) e->st.ear_underruns++;
    snd_pcm_prepare(d->pcm);
    e->ear_primed = 1;
    writes = e->queue_frames;
    priming = 1;
  } else if (e->ear_paced) {
    if (delay < (e->queue_frames - 1) * FRAME - FRAME / 2) writes = 2;
    else if (delay > e->queue_frames * FRAME + FRAME / 2) writes = 0;
  }
  for (int i = 0; i < writes; i++) {
    play_frame(e, frame);
    snd_pcm_sframes_t n = snd_pcm_writei(d->pcm, frame, FRAME);
    if (n == -EPIPE) { /* underrun: prepare and write again */
      e->st.ear_underruns++;
      snd_pcm_prepare(d->pcm);
      n = snd_pcm_writei(d->pcm, frame, FRAME);
    }
    if (n == -EAGAIN) break;
    if (n < 0) {
      int err = snd_pcm_recover(d->pcm, (int)n, 1);
      if (err < 0) return device_fail(e, d, "write", err);
      break;
    }
    e->st.ear_frames++;
  }
  if (priming && snd_pcm_delay(d->pcm, &delay) == 0) e->ear_paced = delay > 0;
}

/* ---- the thread ---- */

static void tick(engine *e) {
  int16_t mic[FRAME];
  e->ticks++;
  if (device_switch(&e->mic) | device_switch(&e->ear)) post(e, event_new(EV_SWITCHED));
  device_open(e, &e->mic);
  device_open(e, &e->ear);
  capture_frame(e, mic);
  send_audio(e, mic);
  receive_all(e);
  playback_tick(e);
}

static void *run(void *arg) {
  engine *e = arg;
  atomic_store(&e->tid, (int)syscall(SYS_gettid));
  /* Real-time scheduling when allowed (root, CAP_SYS_NICE or RLIMIT_RTPRIO — the unit sets
   * LimitRTPRIO): the frame is then not late behind other processes. Without it, as is. */
  if (e->rt_priority > 0) {
    struct sched_param sp = {.sched_priority = e->rt_priority};
    atomic_store(&e->realtime, pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp) == 0);
  }
  struct timespec next;
  clock_gettime(CLOCK_MONOTONIC, &next);
  while (!atomic_load(&e->stopping)) {
    pthread_mutex_lock(&e->lock);
    tick(e);
    pthread_mutex_unlock(&e->lock);
    next.tv_nsec += TICK_NS;
    if (next.tv_nsec >= 1000000000L) {
      next.tv_nsec -= 1000000000L;
      next.tv_sec++;
    }
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long wait = (next.tv_sec - now.tv_sec) * 1000000000LL + (next.tv_nsec - now.tv_nsec);
    if (wait < -200000000LL) { /* stalled (suspend, debugger): go on from now, no burst */
      next = now;
      wait = 0;
    }
    if (wait > 0) {
      struct timespec rel = {(time_t)(wait / 1000000000LL), (long)(wait % 1000000000LL)};
      struct pollfd p = {e->wake[0], POLLIN, 0};
      ppoll(&p, 1, &rel, NULL);
    }
  }
  pthread_mutex_lock(&e->lock);
  device_close(&e->ear);
  device_close(&e->mic);
  close(e->sock);
  e->sock = -1;
  pthread_mutex_unlock(&e->lock);
  post(e, event_new(EV_CLOSED));
  return NULL;
}

int engine_open(engine *e, const engine_options *o, const char *address, int port, engine_notify notify, void *ctx) {
  memset(e, 0, sizeof *e);
  g711_init();
  e->sock = -1;
  e->wake[0] = e->wake[1] = -1;
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) return -EINVAL;
  int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return -errno;
  int on = 1;
  setsockopt(s, SOL_SOCKET, SO_TIMESTAMPNS, &on, sizeof on); /* arrival times for jitter (A.8) */
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  if (pipe2(e->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
    int err = errno;
    close(s);
    return -err;
  }
  e->sock = s;
  pthread_mutex_init(&e->lock, NULL);
  e->law = LAW_PCMU;
  e->event_pt = -1;
  e->sending = e->receiving = 1;
  e->ssrc = o->ssrc;
  e->seq = o->seq;
  e->timestamp = o->timestamp;
  e->rt_priority = o->rt_priority;
  e->queue_frames = o->queue_frames < 1 ? 2 : o->queue_frames > 3 ? 3 : o->queue_frames;
  jb_init(&e->jb, o->jitter);
  snprintf(e->ear.want, sizeof e->ear.want, "%s", o->earpiece ? o->earpiece : "");
  snprintf(e->mic.want, sizeof e->mic.want, "%s", o->microphone ? o->microphone : "");
  e->mic.capture = 1;
  e->notify = notify;
  e->ctx = ctx;
  return 0;
}

int engine_start(engine *e) {
  int err = pthread_create(&e->thread, NULL, run, e);
  if (err == 0) pthread_setname_np(e->thread, "call-media"); /* shows in top -H and /proc */
  return -err;
}

void engine_stop(engine *e) {
  atomic_store(&e->stopping, 1);
  if (e->wake[1] >= 0) (void)!write(e->wake[1], "x", 1);
}

void engine_join(engine *e) { pthread_join(e->thread, NULL); }

void engine_free(engine *e) {
  if (e->sock >= 0) close(e->sock);
  if (e->wake[0] >= 0) close(e->wake[0]);
  if (e->wake[1] >= 0) close(e->wake[1]);
  pthread_mutex_destroy(&e->lock);
}

void engine_set_remote(engine *e, const char *address, int port) {
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  if (inet_pton(AF_INET, address, &a.sin_addr) != 1) return;
  pthread_mutex_lock(&e->lock);
  e->remote = a;
  e->have_remote = 1;
  pthread_mutex_unlock(&e->lock);
}

void engine_set_codec(engine *e, int law, int payload_type) {
  pthread_mutex_lock(&e->lock);
  e->law = law;
  e->payload_type = payload_type;
  pthread_mutex_unlock(&e->lock);
}

void engine_set_event_pt(engine *e, int pt) {
  pthread_mutex_lock(&e->lock);
  e->event_pt = pt;
  pthread_mutex_unlock(&e->lock);
}

void engine_set_direction(engine *e, int sending, int receiving) {
  pthread_mutex_lock(&e->lock);
  e->sending = sending;
  e->receiving = receiving;
  pthread_mutex_unlock(&e->lock);
}

void engine_set_devices(engine *e, const char *earpiece, const char *microphone) {
  pthread_mutex_lock(&e->lock);
  snprintf(e->ear.want, sizeof e->ear.want, "%s", earpiece ? earpiece : "");
  snprintf(e->mic.want, sizeof e->mic.want, "%s", microphone ? microphone : "");
  pthread_mutex_unlock(&e->lock);
}

int engine_send_packet(engine *e, int pt, const uint8_t *payload, int length, int marker, uint32_t timestamp) {
  pthread_mutex_lock(&e->lock);
  int r = e->sock >= 0 ? send_rtp(e, pt, payload, length, marker, timestamp) : 0;
  pthread_mutex_unlock(&e->lock);
  return r;
}

uint32_t engine_timestamp(engine *e) {
  pthread_mutex_lock(&e->lock);
  uint32_t t = e->timestamp;
  pthread_mutex_unlock(&e->lock);
  return t;
}

void engine_skip_timestamp(engine *e, uint32_t at_least) {
  pthread_mutex_lock(&e->lock);
  if ((int32_t)(at_least - e->timestamp) > 0) e->timestamp = at_least;
  pthread_mutex_unlock(&e->lock);
}

int engine_overlay(engine *e, const int16_t *pcm, int n) {
  pthread_mutex_lock(&e->lock);
  int room = OVERLAY_SAMPLES - e->overlay_count;
  if (n > room) n = room;
  for (int i = 0; i < n; i++) e->overlay[(e->overlay_head + e->overlay_count + i) % OVERLAY_SAMPLES] = pcm[i];
  e->overlay_count += n;
  pthread_mutex_unlock(&e->lock);
  return n;
}

void engine_clear_overlay(engine *e) {
  pthread_mutex_lock(&e->lock);
  e->overlay_count = 0;
  pthread_mutex_unlock(&e->lock);
}

void engine_stats_get(engine *e, engine_stats *out) {
  pthread_mutex_lock(&e->lock);
  *out = e->st;
  out->highest_seq = e->cycles + e->max_seq;
  out->expected = e->have_first ? (int64_t)e->cycles + e->max_seq - e->first_seq + 1 : 0;
  out->jb = e->jb.stats;
  pthread_mutex_unlock(&e->lock);
}
