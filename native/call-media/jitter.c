#include "jitter.h"
#include <math.h>
#include <string.h>

#define FRAME_MS 20

/* Signed distance from sequence number a to b, modulo 2^16 (RFC 3550 A.1). */
int seq_delta(uint16_t a, uint16_t b) { return (int)((uint16_t)(b - a + 0x8000)) - 0x8000; }

static void set_target(jitter_buffer *jb, int frames) {
  jb->target_frames = frames;
  jb->stats.target_ms = frames * FRAME_MS;
}

void jb_init(jitter_buffer *jb, jitter_options o) {
  memset(jb, 0, sizeof *jb);
  if (o.min_frames < 1) o.min_frames = 1;
  if (o.max_frames < o.min_frames) o.max_frames = o.min_frames;
  if (o.max_frames > JB_SLOTS / 2) o.max_frames = JB_SLOTS / 2;
  if (o.conceal_frames < 0) o.conceal_frames = 0;
  jb->o = o;
  set_target(jb, o.min_frames);
}

static void remove_slot(jitter_buffer *jb, uint16_t seq) {
  int i = seq % JB_SLOTS;
  if (jb->present[i] && jb->seq[i] == seq) {
    jb->present[i] = 0;
    jb->count--;
  }
}

static void clear(jitter_buffer *jb) {
  memset(jb->present, 0, sizeof jb->present);
  jb->count = 0;
}

static void adapt(jitter_buffer *jb) {
  int wanted = (int)ceil((FRAME_MS + 3 * jb->jitter) / FRAME_MS);
  int t = jb->target_frames;
  if (wanted > t) t = wanted;
  if (t < jb->o.min_frames) t = jb->o.min_frames;
  if (t > jb->o.max_frames) t = jb->o.max_frames;
  set_target(jb, t);
  /* More than target + 2 queued: drop the oldest so the delay does not grow (G.114). */
  while (jb->playing && jb->count > jb->target_frames + 2) {
    remove_slot(jb, jb->next_seq);
    jb->next_seq++;
    jb->stats.dropped++;
  }
}

void jb_push(jitter_buffer *jb, uint16_t seq, const int16_t *frame, double timestamp_ms, double arrival_ms) {
  jb->stats.received++;
  double transit = arrival_ms - timestamp_ms; /* RFC 3550 A.8: J += (|D| - J) / 16 */
  if (jb->have_transit) {
    jb->jitter += (fabs(transit - jb->last_transit) - jb->jitter) / 16;
    jb->stats.jitter_ms = jb->jitter;
  }
  jb->last_transit = transit;
  jb->have_transit = 1;
  if (jb->have_next && jb->playing && seq_delta(jb->next_seq, seq) < 0) {
    jb->stats.late++;
    return;
  }
  if (jb->have_next && seq_delta(jb->next_seq, seq) >= JB_SLOTS) {
    /* A jump far ahead (a new stream): start over rather than alias slots. */
    clear(jb);
    jb->playing = 0;
    jb->have_next = 0;
    jb->stats.resets++;
  }
  if (!jb->have_next || seq_delta(jb->next_seq, seq) < 0) {
    jb->next_seq = seq;
    jb->have_next = 1;
  }
  int i = seq % JB_SLOTS;
  if (!jb->present[i]) jb->count++;
  jb->present[i] = 1;
  jb->seq[i] = seq;
  memcpy(jb->pcm[i], frame, sizeof jb->pcm[i]);
  adapt(jb);
}

void jb_read(jitter_buffer *jb, int16_t *out) {
  for (;;) {
    if (!jb->playing) {
      if (jb->count >= jb->target_frames) jb->playing = 1;
      else {
        memset(out, 0, JB_FRAME * sizeof *out);
        return;
      }
    }
    uint16_t seq = jb->next_seq;
    int i = seq % JB_SLOTS;
    jb->next_seq = seq + 1;
    if (jb->present[i] && jb->seq[i] == seq) {
      memcpy(out, jb->pcm[i], JB_FRAME * sizeof *out);
      memcpy(jb->last, out, sizeof jb->last);
      remove_slot(jb, seq);
      jb->have_last = 1;
      jb->concealed_run = 0;
      jb->stats.played++;
      return;
    }
    if (jb->have_last && jb->concealed_run < jb->o.conceal_frames) {
      jb->concealed_run++;
      double gain = pow(0.5, jb->concealed_run);
      for (int k = 0; k < JB_FRAME; k++) out[k] = (int16_t)lround(jb->last[k] * gain);
      jb->stats.concealed++;
      return;
    }
    /* Concealment used up. Later frames waiting: go on from the earliest. */
    if (jb->count > 0) {
      int best = -1;
      for (int k = 0; k < JB_SLOTS; k++)
        if (jb->present[k] && (best < 0 || seq_delta(jb->seq[best], jb->seq[k]) < 0)) best = k;
      jb->next_seq = jb->seq[best];
      jb->concealed_run = 0;
      continue;
    }
    /* Nothing at all: silence, and wait for the target again with a frame more of margin. */
    memset(out, 0, JB_FRAME * sizeof *out);
    jb->playing = 0;
    jb->have_last = 0;
    jb->have_next = 0;
    jb->stats.underruns++;
    set_target(jb, jb->target_frames + 1 > jb->o.max_frames ? jb->o.max_frames : jb->target_frames + 1);
    return;
  }
}
