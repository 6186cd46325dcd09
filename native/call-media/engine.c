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
#include "parts.h"

#define TICK_NS 20000000L


/* ---- the thread ---- */

/* Takes up the devices JavaScript asked for: at each tick, and at once when woken for it. */
static void take_devices(engine *e) {
  int switched = device_switch(e, &e->mic) | device_switch(e, &e->ear);
  e->park_devices = 0;
  handover_done(e);
  if (switched) media_post(e, media_event(EV_SWITCHED));
  device_open(e, &e->mic);
  device_open(e, &e->ear);
}

static void tick(engine *e) {
  int16_t mic[FRAME];
  e->ticks++;
  take_devices(e);
  uint64_t captured = e->st.mic_frames, sent = e->st.sent;
  capture_frame(e, mic);
  send_audio(e, mic);
  if (!e->st.first_mic_sent_ms) {
    if (e->st.mic_frames > captured) e->mic_unsent = 1;
    if (e->mic_unsent && e->st.sent > sent) e->st.first_mic_sent_ms = monotonic_ms();
  }
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
    /* Sleep to the next frame; a wake-up for a device hand-over (a preempted call's
     * thread let go of the earpiece) takes the devices now, not a tick later, and
     * sleeps on without an extra frame. */
    while (wait > 0 && !atomic_load(&e->stopping)) {
      struct timespec rel = {(time_t)(wait / 1000000000LL), (long)(wait % 1000000000LL)};
      struct pollfd p = {e->wake[0], POLLIN, 0};
      if (ppoll(&p, 1, &rel, NULL) <= 0 || !(p.revents & POLLIN)) break;
      char drain[16];
      while (read(e->wake[0], drain, sizeof drain) > 0) {
      }
      if (atomic_load(&e->stopping)) break;
      pthread_mutex_lock(&e->lock);
      take_devices(e);
      pthread_mutex_unlock(&e->lock);
      clock_gettime(CLOCK_MONOTONIC, &now);
      wait = (next.tv_sec - now.tv_sec) * 1000000000LL + (next.tv_nsec - now.tv_nsec);
    }
  }
  pthread_mutex_lock(&e->lock);
  if (e->park_devices && !e->ear.want[0] && !e->mic.want[0]) { /* ended as it handed them over */
    device_park(e, &e->ear);
    device_park(e, &e->mic);
  }
  device_close(&e->ear);
  device_close(&e->mic);
  handover_done(e);
  close(e->sock);
  e->sock = -1;
  pthread_mutex_unlock(&e->lock);
  media_post(e, media_event(EV_CLOSED));
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
  e->packet_samples = FRAME;
  e->rt_priority = o->rt_priority;
  e->latch_window_ms = o->latch_window_ms < 0 ? 0 : o->latch_window_ms;
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
  if (!e->have_signalled || !same_address(&e->signalled, &a)) {
    /* A new far end from SDP (a re-INVITE moves media): sent there, taken from there; a
     * latch is dropped, and none is possible once RTP has flowed (the old far end's last
     * packets must not be latched). */
    e->signalled = a;
    e->have_signalled = 1;
    e->remote = a;
    e->have_remote = 1;
    e->latched = 0;
    e->latch_open = e->latch_window_ms > 0 && e->st.received == 0;
    e->latch_until_ms = monotonic_ms() + e->latch_window_ms;
  }
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

void engine_set_packet_time(engine *e, int ms) {
  int samples = (ms + 5) / 10 * 80;
  if (samples < 80) samples = 80;
  if (samples > MAX_PACKET) samples = MAX_PACKET;
  pthread_mutex_lock(&e->lock);
  if (samples != e->packet_samples) {
    if (e->sock >= 0) flush_audio(e);
    e->packet_samples = samples;
  }
  pthread_mutex_unlock(&e->lock);
}

void engine_set_devices(engine *e, const char *earpiece, const char *microphone, int hand_over) {
  pthread_mutex_lock(&e->lock);
  e->park_devices = hand_over;
  if (hand_over) handover_expect(e);
  snprintf(e->ear.want, sizeof e->ear.want, "%s", earpiece ? earpiece : "");
  snprintf(e->mic.want, sizeof e->mic.want, "%s", microphone ? microphone : "");
  pthread_mutex_unlock(&e->lock);
  if (e->wake[1] >= 0) (void)!write(e->wake[1], "d", 1);
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
  if ((int32_t)(at_least - e->timestamp) > 0) {
    if (e->sock >= 0) flush_audio(e); /* what was gathered keeps its own timestamp */
    e->timestamp = at_least;
  }
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
