/* What the parts of the call media engine share among themselves (not for the addon). */
#ifndef CALL_MEDIA_PARTS_H
#define CALL_MEDIA_PARTS_H
#include "engine.h"

#define RETRY_TICKS 100 /* a missing device is tried again every 2 s */
#define BUSY_RETRY_TICKS 5 /* a device busy just after a switch: again in 100 ms */
#define BUSY_RETRIES 10 /* ... for a second */

/* events.c: to JavaScript, through the engine's notify callback */
engine_event *media_event(event_kind kind);
void media_post(engine *e, engine_event *ev);
void media_report(engine *e, device *d, event_kind kind, const char *message);

/* devices.c: the earpiece and microphone (alsa-lib PCM API) */
int device_switch(engine *e, device *d);
void device_open(engine *e, device *d);
void device_close(device *d);
void capture_frame(engine *e, int16_t *out);
void playback_tick(engine *e);

/* handover.c: the open devices handed from one call's thread to the next */
void device_park(engine *e, device *d);
int device_take_parked(engine *e, device *d);
int devices_drop_parked(void);
/* A hand-over asked of `e` (it has devices open): counted until they are parked. */
void handover_expect(engine *e);
void handover_done(engine *e);
/* 1: a hand-over is under way; open nothing now, `e` is woken when it is done. */
int handover_wait(engine *e);

/* rtp.c: the RTP socket (RFC 3550) and whom media is taken from */
int same_address(const struct sockaddr_in *a, const struct sockaddr_in *b);
double monotonic_ms(void);
int send_rtp(engine *e, int pt, const uint8_t *payload, int length, int marker, uint32_t ts);
void send_audio(engine *e, const int16_t *pcm);
void flush_audio(engine *e);
void receive_all(engine *e);
#endif
