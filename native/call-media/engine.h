/* One call's media on a thread of its own: every 20 ms on CLOCK_MONOTONIC it
 * reads a microphone frame, sends it as G.711 RTP, takes every RTP packet that
 * arrived into the jitter buffer, and tops up the earpiece. One wake-up a
 * frame for both directions; no JavaScript runs per frame.
 *
 * Packet time (the far end's a=ptime, RFC 4566 §6; 10–60 ms in 10 ms steps):
 * the device clock stays at 20 ms. Sending gathers 20 ms microphone frames
 * into packets of the packet time (a 30 ms packet leaves at every other tick
 * and the next; 10 ms packets leave two a tick); receiving takes packets of
 * any size whole into the jitter buffer's 10 ms units (jitter.h). */
#ifndef CALL_MEDIA_ENGINE_H
#define CALL_MEDIA_ENGINE_H
#include <alsa/asoundlib.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include "jitter.h"

#define FRAME 160 /* 20 ms at 8 kHz */
#define MIC_FIFO (FRAME * 4)
#define MAX_PACKET 480 /* the longest packet sent: 60 ms */
#define OVERLAY_SAMPLES (8000 * 4)

typedef enum { EV_REMOTE, EV_EVENT_PACKET, EV_DEVICE_ERROR, EV_DEVICE_OK, EV_SWITCHED, EV_CLOSED } event_kind;

typedef struct {
  event_kind kind;
  char device[128];
  char message[256];
  char address[INET_ADDRSTRLEN];
  int port;
  uint8_t payload[64];
  int length;
  uint32_t timestamp;
  int marker;
  int payload_type;
  uint32_t ssrc; /* EV_REMOTE: the source's SSRC */
  char signalled[INET_ADDRSTRLEN]; /* EV_REMOTE: the SDP's address at the time */
  int signalled_port;
} engine_event;

typedef void (*engine_notify)(void *ctx, engine_event *e); /* takes ownership of e */

typedef struct {
  const char *earpiece; /* NULL: none */
  const char *microphone;
  int queue_frames;
  int rt_priority; /* SCHED_FIFO priority to ask for; 0: none */
  jitter_options jitter;
  uint32_t ssrc;
  uint16_t seq;
  uint32_t timestamp;
  int latch_window_ms; /* a NAT'd source may be latched this long after the SDP names the far end; 0: never */
} engine_options;

typedef struct {
  uint64_t sent, octets, received, mic_frames, mic_short, mic_dropped, ear_frames, ear_underruns;
  uint64_t strangers; /* RTP packets from someone other than the far end, dropped */
  int64_t expected;
  uint32_t highest_seq, remote_ssrc;
  int have_remote_ssrc;
  jitter_stats jb;
  /* When the call's media started, CLOCK_MONOTONIC ms (0: not yet): the devices' last
   * opens, the first RTP packet carrying a microphone frame, the first frame written
   * to the earpiece, and the first with the far end's audio in it; the first RTP audio
   * packet received, and the first with sound in it. */
  double mic_open_ms, ear_open_ms, first_mic_sent_ms, first_ear_ms, first_heard_ms;
  double first_received_ms, first_sound_ms;
  double let_go_ms; /* the last time it gave up an open device (closed, or parked for the next call) */
} engine_stats;

typedef struct {
  char name[128]; /* the device in use; "" none */
  char want[128]; /* the device asked for; the thread switches over */
  snd_pcm_t *pcm;
  int capture;
  int failed; /* reported, waiting to retry */
  uint64_t retry_tick;
  int busy_retries; /* quick retries of a device still busy just after a switch */
} device;

typedef struct engine {
  pthread_mutex_t lock;
  pthread_t thread;
  atomic_int stopping;
  atomic_int tid; /* the media thread's id, for per-thread CPU accounting */
  atomic_int realtime; /* 1 when SCHED_FIFO was granted */
  int rt_priority;
  int wake[2]; /* pipe: a byte ends the thread's wait at once */
  int sock;
  struct sockaddr_in remote; /* where RTP goes: the latched source, else the SDP's address */
  int have_remote;
  /* Source rules (rtp.c): the SDP's address, one NAT latch early, SSRC-pinned. */
  struct sockaddr_in signalled;
  int have_signalled;
  int latch_open, latched;
  uint32_t latched_ssrc;
  double latch_until_ms; /* CLOCK_MONOTONIC */
  int latch_window_ms;
  int law, payload_type, event_pt; /* event_pt < 0: no telephone-event */
  int sending, receiving;
  uint32_t ssrc, timestamp;
  uint16_t seq;
  int first_sent;
  /* the audio packet being gathered: packet_samples long, from RTP timestamp pending_ts */
  int packet_samples;
  int16_t pending[MAX_PACKET];
  int pending_fill;
  uint32_t pending_ts;
  /* the first RTP timestamp received: the jitter buffer places audio relative to it */
  int have_base_ts;
  uint32_t base_ts;
  /* receive statistics (RFC 3550 A.1, A.3) */
  int have_first;
  uint16_t first_seq, max_seq;
  uint32_t cycles;
  device ear, mic;
  int queue_frames;
  int16_t mic_fifo[MIC_FIFO];
  int mic_fill, mic_primed;
  int ear_primed, ear_paced;
  int park_devices; /* the devices given up at the next switch are handed over, not closed */
  int handing;      /* a hand-over was asked and its devices are not parked yet (handover.c) */
  int mic_unsent; /* a microphone frame is gathered and not yet sent (first_mic_sent_ms) */
  int16_t overlay[OVERLAY_SAMPLES];
  int overlay_head, overlay_count;
  jitter_buffer jb;
  engine_stats st;
  uint64_t ticks;
  engine_notify notify;
  void *ctx;
} engine;

/* Binds the RTP socket; returns 0 or -errno. Devices open on the thread. */
int engine_open(engine *e, const engine_options *o, const char *address, int port, engine_notify notify, void *ctx);
int engine_start(engine *e);
/* Ends the thread; it closes the devices and the socket, posts EV_CLOSED and returns. */
void engine_stop(engine *e);
void engine_join(engine *e);
void engine_free(engine *e);

/* Called from other threads; each takes the lock. */
/* The far end the SDP names; the same address again changes nothing (a latch stays). */
void engine_set_remote(engine *e, const char *address, int port);
void engine_set_codec(engine *e, int law, int payload_type);
void engine_set_event_pt(engine *e, int pt);
void engine_set_direction(engine *e, int sending, int receiving);
/* The packet time to send, ms (10–60, rounded to 10): what is gathered leaves as it is. */
void engine_set_packet_time(engine *e, int ms);
/* Which earpiece and microphone to use (NULL or "": none); opened and closed on the thread.
 * `hand_over`: the ones given up stay open for the next call's thread (handover.c). */
void engine_set_devices(engine *e, const char *earpiece, const char *microphone, int hand_over);
/* Closes what was handed over and not taken; returns how many. */
int devices_drop_parked(void);
int engine_send_packet(engine *e, int pt, const uint8_t *payload, int length, int marker, uint32_t timestamp);
uint32_t engine_timestamp(engine *e);
void engine_skip_timestamp(engine *e, uint32_t at_least);
int engine_overlay(engine *e, const int16_t *pcm, int n);
void engine_clear_overlay(engine *e);
void engine_stats_get(engine *e, engine_stats *out);
#endif
