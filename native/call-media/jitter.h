/* An adaptive jitter buffer for 20 ms frames, pulled once a frame time: the
 * rules of audio/jitter-buffer.ts (RFC 3550 A.8 jitter, target = frame +
 * 3·jitter between min and max, late packets dropped, concealment by
 * repeating the last frame 6 dB quieter each time, overflow trimmed). */
#ifndef CALL_MEDIA_JITTER_H
#define CALL_MEDIA_JITTER_H
#include <stdint.h>

#define JB_FRAME 160
#define JB_SLOTS 64

typedef struct {
  int min_frames, max_frames, conceal_frames;
} jitter_options;

typedef struct {
  uint64_t received, played, concealed, late, dropped, underruns, resets;
  double jitter_ms;
  int target_ms;
} jitter_stats;

typedef struct {
  int16_t pcm[JB_SLOTS][JB_FRAME];
  uint16_t seq[JB_SLOTS];
  uint8_t present[JB_SLOTS];
  int count;
  int have_next;
  uint16_t next_seq;
  int playing;
  int16_t last[JB_FRAME];
  int have_last;
  int concealed_run;
  double jitter;
  int have_transit;
  double last_transit;
  int target_frames;
  jitter_options o;
  jitter_stats stats;
} jitter_buffer;

void jb_init(jitter_buffer *jb, jitter_options o);
void jb_push(jitter_buffer *jb, uint16_t seq, const int16_t *frame, double timestamp_ms, double arrival_ms);
void jb_read(jitter_buffer *jb, int16_t *out);
int seq_delta(uint16_t a, uint16_t b);
#endif
