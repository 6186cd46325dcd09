/* G.711 (ITU-T G.711 Tables 1a/2a), table-driven: a 64 Ki-entry encode table
 * and a 256-entry decode table per law, filled once by a segment search. */
#include "g711.h"

static const int ULAW_SEG_END[8] = {0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff};
static const int ALAW_SEG_END[8] = {0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff};
static uint8_t encode_table[2][65536];
static int16_t decode_table[2][256];
static int ready;

static int segment(int value, const int *ends) {
  for (int i = 0; i < 8; i++)
    if (value <= ends[i]) return i;
  return 8;
}

static uint8_t linear_to_ulaw(int sample) {
  int negative = sample < 0;
  int mag = (negative ? ~sample : sample) >> 2; /* 14-bit, one's complement */
  int mask = negative ? 0x7f : 0xff;
  if (mag > 8159) mag = 8159; /* clip */
  mag += 0x84 >> 2;           /* bias 33 */
  int seg = segment(mag, ULAW_SEG_END);
  if (seg >= 8) return (uint8_t)(0x7f ^ mask);
  return (uint8_t)(((seg << 4) | ((mag >> (seg + 1)) & 0x0f)) ^ mask);
}

static int16_t ulaw_to_linear(int code) {
  int u = ~code & 0xff;
  int t = ((u & 0x0f) << 3) + 0x84;
  t <<= (u >> 4) & 0x07;
  return (int16_t)(u & 0x80 ? 0x84 - t : t - 0x84);
}

static uint8_t linear_to_alaw(int sample) {
  int negative = sample < 0;
  int mag = (negative ? ~sample : sample) >> 3; /* 13-bit, one's complement */
  int mask = negative ? 0x55 : 0xd5;
  int seg = segment(mag, ALAW_SEG_END);
  if (seg >= 8) return (uint8_t)(0x7f ^ mask);
  int quant = seg < 2 ? (mag >> 1) & 0x0f : (mag >> seg) & 0x0f;
  return (uint8_t)(((seg << 4) | quant) ^ mask);
}

static int16_t alaw_to_linear(int code) {
  int a = code ^ 0x55;
  int seg = (a >> 4) & 0x07;
  int t = (a & 0x0f) << 4;
  if (seg == 0) t += 8;
  else t = (t + 0x108) << (seg - 1);
  return (int16_t)(a & 0x80 ? t : -t);
}

void g711_init(void) {
  if (ready) return;
  for (int i = 0; i < 65536; i++) {
    int s = i < 32768 ? i : i - 65536;
    encode_table[LAW_PCMU][i] = linear_to_ulaw(s);
    encode_table[LAW_PCMA][i] = linear_to_alaw(s);
  }
  for (int c = 0; c < 256; c++) {
    decode_table[LAW_PCMU][c] = ulaw_to_linear(c);
    decode_table[LAW_PCMA][c] = alaw_to_linear(c);
  }
  ready = 1;
}

void g711_encode(int law, const int16_t *pcm, uint8_t *out, size_t n) {
  const uint8_t *t = encode_table[law == LAW_PCMA];
  for (size_t i = 0; i < n; i++) out[i] = t[(uint16_t)pcm[i]];
}

void g711_decode(int law, const uint8_t *codes, int16_t *out, size_t n) {
  const int16_t *t = decode_table[law == LAW_PCMA];
  for (size_t i = 0; i < n; i++) out[i] = t[codes[i]];
}

uint8_t g711_silence(int law) { return law == LAW_PCMA ? 0xd5 : 0xff; }
