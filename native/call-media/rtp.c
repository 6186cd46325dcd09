/* The call's RTP socket: sending G.711 frames and events, receiving into the
 * jitter buffer (RFC 3550 §5.1, A.1, A.3, A.8; symmetric RTP, RFC 4961).
 *
 * Whom media is taken from (the rules of audio/media-sources.ts):
 * - the address and port the SDP names (engine_set_remote), with any SSRC;
 * - a NAT'd far end (RFC 4961, the "comedia" idea): ONE latch in a call, to
 *   the first source of a negotiated payload type, only while no RTP has
 *   been accepted yet and within latch_window_ms of the SDP naming the far end;
 *   the latched source is pinned to its SSRC (RFC 3550 §8.2: another SSRC
 *   from it is a collision or a loop, not followed) and RTP is sent to it;
 * - the SDP's address always wins: a packet from it after a latch sends RTP
 *   back there and ends latching;
 * - anything else is dropped and counted (stats: strangers), never followed. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include "g711.h"
#include "parts.h"


int send_rtp(engine *e, int pt, const uint8_t *payload, int length, int marker, uint32_t ts) {
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

/* Sends what has been gathered, if anything, at the timestamp of its first sample. */
void flush_audio(engine *e) {
  if (e->pending_fill == 0) return;
  uint8_t payload[MAX_PACKET];
  g711_encode(e->law, e->pending, payload, (size_t)e->pending_fill);
  send_rtp(e, e->payload_type, payload, e->pending_fill, !e->first_sent, e->pending_ts);
  e->first_sent = 1;
  e->pending_fill = 0;
}

/* A 20 ms microphone frame, gathered into packets of the packet time. */
void send_audio(engine *e, const int16_t *pcm) {
  if (!e->sending || !e->have_remote) {
    e->pending_fill = 0;
    e->timestamp += FRAME;
    return;
  }
  for (int at = 0; at < FRAME;) {
    if (e->pending_fill == 0) e->pending_ts = e->timestamp;
    int take = e->packet_samples - e->pending_fill;
    if (take > FRAME - at) take = FRAME - at;
    memcpy(e->pending + e->pending_fill, pcm + at, (size_t)take * sizeof *pcm);
    e->pending_fill += take;
    at += take;
    e->timestamp += (uint32_t)take;
    if (e->pending_fill >= e->packet_samples) flush_audio(e);
  }
}

int same_address(const struct sockaddr_in *a, const struct sockaddr_in *b) {
  return a->sin_addr.s_addr == b->sin_addr.s_addr && a->sin_port == b->sin_port;
}

double monotonic_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

/* RTP now goes to `to` (a latch, or back to the SDP's address): JavaScript
 * mirrors it for RTCP. */
static void post_remote(engine *e, const struct sockaddr_in *to, uint32_t ssrc) {
  engine_event *ev = media_event(EV_REMOTE);
  if (!ev) return;
  inet_ntop(AF_INET, &to->sin_addr, ev->address, sizeof ev->address);
  ev->port = ntohs(to->sin_port);
  ev->ssrc = ssrc;
  inet_ntop(AF_INET, &e->signalled.sin_addr, ev->signalled, sizeof ev->signalled);
  ev->signalled_port = ntohs(e->signalled.sin_port);
  media_post(e, ev);
}

/* 1: the packet is from the far end (and of a negotiated type when `media`);
 * 0: dropped — a stranger's (counted) or of no interest. */
static int from_far_end(engine *e, const struct sockaddr_in *from, uint32_t ssrc, int media) {
  if (e->have_signalled && same_address(from, &e->signalled)) {
    if (!media) return 0;
    e->latch_open = 0;
    if (e->latched) { /* the SDP's address wins */
      e->latched = 0;
      e->remote = e->signalled;
      post_remote(e, from, ssrc);
    }
    return 1;
  }
  if (e->latched && same_address(from, &e->remote)) {
    if (ssrc != e->latched_ssrc) {
      e->st.strangers++;
      return 0;
    }
    return media;
  }
  if (media && e->have_signalled && e->latch_open && monotonic_ms() <= e->latch_until_ms) {
    e->latch_open = 0; /* once */
    e->latched = 1;
    e->latched_ssrc = ssrc;
    e->remote = *from;
    e->have_remote = 1;
    post_remote(e, from, ssrc);
    return 1;
  }
  e->st.strangers++;
  return 0;
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
  uint16_t seq = (uint16_t)((b[2] << 8) | b[3]);
  uint32_t ts = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
  uint32_t ssrc = (uint32_t)b[8] << 24 | (uint32_t)b[9] << 16 | (uint32_t)b[10] << 8 | b[11];
  if (!from_far_end(e, from, ssrc, is_audio || is_event)) return;
  e->st.remote_ssrc = ssrc;
  e->st.have_remote_ssrc = 1;
  track(e, seq);
  if (is_event) { /* RFC 4733 events are read in JavaScript: rare, and not timed */
    engine_event *ev = media_event(EV_EVENT_PACKET);
    if (!ev) return;
    ev->length = end - offset > (int)sizeof ev->payload ? (int)sizeof ev->payload : end - offset;
    memcpy(ev->payload, b + offset, (size_t)ev->length);
    ev->timestamp = ts;
    ev->marker = (b[1] & 0x80) != 0;
    ev->payload_type = pt;
    media_post(e, ev);
    return;
  }
  if (!e->receiving) return;
  /* Any packet time, whole: the jitter buffer places it by timestamp (jitter.h). */
  int16_t pcm[JB_MAX_PACKET];
  int len = end - offset > JB_MAX_PACKET ? JB_MAX_PACKET : end - offset;
  g711_decode(e->law, b + offset, pcm, (size_t)len);
  if (!e->st.first_received_ms) e->st.first_received_ms = monotonic_ms();
  if (!e->st.first_sound_ms) /* a sample over -30 dBFS: the far end's first sound, not silence */
    for (int i = 0; i < len; i++)
      if (pcm[i] > 1036 || pcm[i] < -1036) {
        e->st.first_sound_ms = monotonic_ms();
        break;
      }
  if (!e->have_base_ts) {
    e->have_base_ts = 1;
    e->base_ts = ts;
  }
  jb_push(&e->jb, pcm, len, (int32_t)(ts - e->base_ts) / 8.0, arrival);
}

void receive_all(engine *e) {
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
