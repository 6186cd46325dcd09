/* G.711 μ-law and A-law tables (ITU-T G.711 §2, §3), the same rules as
 * audio/g711.ts: one's complement magnitudes as in the ITU-T G.191 reference. */
#ifndef CALL_MEDIA_G711_H
#define CALL_MEDIA_G711_H
#include <stddef.h>
#include <stdint.h>

enum { LAW_PCMU = 0, LAW_PCMA = 1 };

void g711_init(void);
void g711_encode(int law, const int16_t *pcm, uint8_t *out, size_t n);
void g711_decode(int law, const uint8_t *codes, int16_t *out, size_t n);
uint8_t g711_silence(int law);
#endif
