/* An adaptive jitter buffer, pulled once a 20 ms frame, that takes packets of
 * any packet time whole: the rules of audio/jitter-buffer.ts. Audio is kept
 * in 10 ms units placed by RTP timestamp (RFC 3550 §5.1), so a 30 ms packet
 * fills three units and a read takes two; RFC 3550 A.8 jitter, target =
 * frame + 3·jitter between min and max and never under a packet plus a
 * frame, late packets dropped, concealment by repeating the last unit 6 dB
 * quieter for each 20 ms, overflow trimmed. played/concealed/dropped count
 * units; received/late count packets. */
#ifndef CALL_MEDIA_JITTER_H
#define CALL_MEDIA_JITTER_H
#include <stdint.h>

#define JB_UNIT 80 /* 10 ms at 8 kHz */
#define JB_UNIT_MS 10
#define JB_SLOTS 128 /* units: 1.28 s */
#define JB_MAX_PACKET 1200 /* samples taken from one packet (150 ms); we ask for 60 at most */

typedef struct {
  int min_units, max_units, conceal_units;
} jitter_options;

typedef struct {
  uint64_t received, played, concealed, late, dropped, underruns, resets;
  double jitter_ms;
  int target_ms;
} jitter_stats;

typedef struct {
  int16_t pcm[JB_SLOTS][JB_UNIT];
  uint16_t unit[JB_SLOTS]; /* the unit's place in time (timestamp / 80, modulo 2^16) */
  uint8_t present[JB_SLOTS];
  int count;
  int have_next;
  uint16_t next;
  int playing;
  int16_t last[JB_UNIT];
  int have_last;
  int concealed_run;
  double jitter;
  int have_transit;
  double last_transit;
  int target_units;
  int packet_units; /* of the last packet */
  jitter_options o;
  jitter_stats stats;
} jitter_buffer;

void jb_init(jitter_buffer *jb, jitter_options o);
/* A decoded packet of `samples` (a partial last unit is completed with silence);
 * `timestamp_ms` its RTP timestamp in ms from any fixed origin, `arrival_ms` local time. */
void jb_push(jitter_buffer *jb, const int16_t *pcm, int samples, double timestamp_ms, double arrival_ms);
/* Fills `out` with `samples` (whole units) of what is due, concealment or silence. */
void jb_read(jitter_buffer *jb, int16_t *out, int samples);
int seq_delta(uint16_t a, uint16_t b);
#endif
