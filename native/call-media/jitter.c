#include "jitter.h"
#include <math.h>
#include <string.h>

#define FRAME_UNITS 2 /* the read side's 20 ms */

/* Signed distance from sequence number a to b, modulo 2^16 (RFC 3550 A.1). */
int seq_delta(uint16_t a, uint16_t b) { return (int)((uint16_t)(b - a + 0x8000)) - 0x8000; }

/* The least the target may be: one packet and one frame. */
static int floor_units(const jitter_buffer *jb) {
  int f = jb->packet_units + FRAME_UNITS;
  return f > jb->o.min_units ? f : jb->o.min_units;
}

static void set_target(jitter_buffer *jb, int units) {
  int cap = jb->o.max_units > floor_units(jb) ? jb->o.max_units : floor_units(jb);
  if (cap > JB_SLOTS / 2) cap = JB_SLOTS / 2;
  jb->target_units = units < cap ? units : cap;
  jb->stats.target_ms = jb->target_units * JB_UNIT_MS;
}

void jb_init(jitter_buffer *jb, jitter_options o) {
  memset(jb, 0, sizeof *jb);
  if (o.min_units < FRAME_UNITS) o.min_units = FRAME_UNITS;
  if (o.max_units < o.min_units) o.max_units = o.min_units;
  if (o.conceal_units < 0) o.conceal_units = 0;
  jb->o = o;
  jb->packet_units = FRAME_UNITS;
  set_target(jb, o.min_units);
}

static void remove_slot(jitter_buffer *jb, uint16_t unit) {
  int i = unit % JB_SLOTS;
  if (jb->present[i] && jb->unit[i] == unit) {
    jb->present[i] = 0;
    jb->count--;
  }
}

static void clear(jitter_buffer *jb) {
  memset(jb->present, 0, sizeof jb->present);
  jb->count = 0;
}

static void adapt(jitter_buffer *jb) {
  int wanted = (int)ceil((FRAME_UNITS * JB_UNIT_MS + 3 * jb->jitter) / JB_UNIT_MS);
  int t = jb->target_units;
  if (wanted > t) t = wanted;
  if (floor_units(jb) > t) t = floor_units(jb);
  set_target(jb, t);
  /* More than target + 40 ms (or a packet) queued: drop the oldest so the delay does not grow (G.114). */
  int limit = jb->target_units + (jb->packet_units > 2 * FRAME_UNITS ? jb->packet_units : 2 * FRAME_UNITS);
  while (jb->playing && jb->count > limit) {
    int i = jb->next % JB_SLOTS;
    if (jb->present[i] && jb->unit[i] == jb->next) jb->stats.dropped++;
    remove_slot(jb, jb->next);
    jb->next++;
  }
}

void jb_push(jitter_buffer *jb, const int16_t *pcm, int samples, double timestamp_ms, double arrival_ms) {
  jb->stats.received++;
  double transit = arrival_ms - timestamp_ms; /* RFC 3550 A.8: J += (|D| - J) / 16 */
  if (jb->have_transit) {
    jb->jitter += (fabs(transit - jb->last_transit) - jb->jitter) / 16;
    jb->stats.jitter_ms = jb->jitter;
  }
  jb->last_transit = transit;
  jb->have_transit = 1;
  if (samples > JB_MAX_PACKET) samples = JB_MAX_PACKET;
  int n = (samples + JB_UNIT - 1) / JB_UNIT;
  if (n <= 0) return;
  uint16_t first = (uint16_t)(int32_t)lround(timestamp_ms / JB_UNIT_MS);
  if (jb->have_next && jb->playing && seq_delta(jb->next, first) < 0) {
    jb->stats.late++;
    if (seq_delta(jb->next, (uint16_t)(first + n)) <= 0) return; /* wholly past: dropped */
  }
  if (jb->have_next && seq_delta(jb->next, (uint16_t)(first + n - 1)) >= JB_SLOTS) {
    /* A jump far ahead (a new stream): start over rather than alias slots. */
    clear(jb);
    jb->playing = 0;
    jb->have_next = 0;
    jb->stats.resets++;
  }
  if (!jb->have_next || (!jb->playing && seq_delta(jb->next, first) < 0)) {
    jb->next = first;
    jb->have_next = 1;
  }
  jb->packet_units = n;
  for (int k = 0; k < n; k++) {
    uint16_t u = (uint16_t)(first + k);
    if (jb->playing && seq_delta(jb->next, u) < 0) continue;
    int i = u % JB_SLOTS;
    if (!jb->present[i]) jb->count++;
    jb->present[i] = 1;
    jb->unit[i] = u;
    int len = samples - k * JB_UNIT < JB_UNIT ? samples - k * JB_UNIT : JB_UNIT;
    memcpy(jb->pcm[i], pcm + k * JB_UNIT, (size_t)len * sizeof *pcm);
    if (len < JB_UNIT) memset(jb->pcm[i] + len, 0, (size_t)(JB_UNIT - len) * sizeof *pcm);
  }
  adapt(jb);
}

static void read_unit(jitter_buffer *jb, int16_t *out) {
  for (;;) {
    if (!jb->playing) {
      if (jb->have_next && jb->count >= jb->target_units) jb->playing = 1;
      else {
        memset(out, 0, JB_UNIT * sizeof *out);
        return;
      }
    }
    uint16_t u = jb->next;
    int i = u % JB_SLOTS;
    jb->next = u + 1;
    if (jb->present[i] && jb->unit[i] == u) {
      memcpy(out, jb->pcm[i], JB_UNIT * sizeof *out);
      memcpy(jb->last, out, sizeof jb->last);
      remove_slot(jb, u);
      jb->have_last = 1;
      jb->concealed_run = 0;
      jb->stats.played++;
      return;
    }
    if (jb->have_last && jb->concealed_run < jb->o.conceal_units) {
      jb->concealed_run++;
      /* 6 dB quieter for each 20 ms concealed */
      double gain = pow(0.5, (jb->concealed_run * JB_UNIT_MS + 19) / 20);
      for (int k = 0; k < JB_UNIT; k++) out[k] = (int16_t)lround(jb->last[k] * gain);
      jb->stats.concealed++;
      return;
    }
    /* Concealment used up. Later audio waiting: go on from the earliest. */
    if (jb->count > 0) {
      int best = -1;
      for (int k = 0; k < JB_SLOTS; k++)
        if (jb->present[k] && (best < 0 || seq_delta(jb->unit[best], jb->unit[k]) < 0)) best = k;
      jb->next = jb->unit[best];
      jb->concealed_run = 0;
      continue;
    }
    /* Nothing at all: silence, and wait for the target again with 20 ms more of margin. */
    memset(out, 0, JB_UNIT * sizeof *out);
    jb->playing = 0;
    jb->have_last = 0;
    jb->have_next = 0;
    jb->stats.underruns++;
    set_target(jb, jb->target_units + FRAME_UNITS);
    return;
  }
}

void jb_read(jitter_buffer *jb, int16_t *out, int samples) {
  for (int at = 0; at + JB_UNIT <= samples; at += JB_UNIT) read_unit(jb, out + at);
}
