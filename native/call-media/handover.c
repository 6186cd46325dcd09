/* The earpiece and microphone handed from one call's thread to the next (a
 * preemption, a flash between two calls): the thread of the call that gives
 * them up parks its open PCMs here instead of closing them — with the
 * microphone's frames captured and not yet sent — and the next call's thread
 * takes them up instead of opening the devices again. No close and no open
 * (an exclusive device would refuse the second open while the first is held:
 * EBUSY), no new microphone priming, and the earpiece goes on playing. What no
 * thread takes is closed by devices_drop_parked (from JavaScript, when the
 * phone wants the devices itself or a while after the hand-over).
 *
 * The next call's thread does not wait for JavaScript to hear that the devices
 * were parked: while a hand-over is asked for and not yet done, a thread that
 * finds nothing to take opens nothing and leaves its wake pipe here, and the
 * parking wakes it (at most HANDOVER_WAIT_MS: then it opens as before). */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "parts.h"

#define LOT 4 /* an earpiece and a microphone, and room for a second pair */

typedef struct {
  char name[128];
  snd_pcm_t *pcm;
  int capture;
  int16_t fifo[MIC_FIFO]; /* the microphone's frames not yet sent */
  int fill, primed;       /* microphone: as mic_fill/mic_primed; earpiece: ear_primed */
  int paced;              /* earpiece: ear_paced */
} parked_device;

#define HANDOVER_WAIT_MS 200 /* as firmware/app/media-thread-handover.ts */

static pthread_mutex_t lot_lock = PTHREAD_MUTEX_INITIALIZER;
static parked_device lot[LOT];
static int pending;           /* hand-overs asked for whose devices are not parked yet */
static double pending_since;  /* CLOCK_MONOTONIC ms */
static int waiter_fd = -1;    /* the wake pipe of a thread waiting for them */

void handover_expect(engine *e) {
  if (e->handing || (!e->ear.pcm && !e->mic.pcm)) return;
  e->handing = 1;
  pthread_mutex_lock(&lot_lock);
  if (pending++ == 0) pending_since = monotonic_ms();
  pthread_mutex_unlock(&lot_lock);
}

void handover_done(engine *e) {
  if (!e->handing) return;
  e->handing = 0;
  pthread_mutex_lock(&lot_lock);
  if (pending > 0) pending--;
  int fd = waiter_fd;
  waiter_fd = -1;
  pthread_mutex_unlock(&lot_lock);
  if (fd >= 0) (void)!write(fd, "h", 1);
}

int handover_wait(engine *e) {
  pthread_mutex_lock(&lot_lock);
  int wait = pending > 0 && monotonic_ms() - pending_since < HANDOVER_WAIT_MS;
  if (wait) waiter_fd = e->wake[1];
  pthread_mutex_unlock(&lot_lock);
  return wait;
}

void device_park(engine *e, device *d) {
  if (!d->pcm) return;
  pthread_mutex_lock(&lot_lock);
  parked_device *p = NULL;
  for (int i = 0; i < LOT && !p; i++)
    if (!lot[i].pcm) p = &lot[i];
  if (p) {
    snprintf(p->name, sizeof p->name, "%s", d->name);
    p->pcm = d->pcm;
    p->capture = d->capture;
    if (d->capture) {
      memcpy(p->fifo, e->mic_fifo, sizeof p->fifo);
      p->fill = e->mic_fill;
      p->primed = e->mic_primed;
    } else {
      p->primed = e->ear_primed;
      p->paced = e->ear_paced;
    }
    d->pcm = NULL;
  }
  pthread_mutex_unlock(&lot_lock);
  device_close(d); /* no room: closed as before (nothing when parked) */
}

int device_take_parked(engine *e, device *d) {
  int took = 0;
  pthread_mutex_lock(&lot_lock);
  for (int i = 0; i < LOT && !took; i++) {
    parked_device *p = &lot[i];
    if (!p->pcm || p->capture != d->capture || strcmp(p->name, d->name) != 0) continue;
    d->pcm = p->pcm;
    p->pcm = NULL;
    if (d->capture) {
      memcpy(e->mic_fifo, p->fifo, sizeof e->mic_fifo);
      e->mic_fill = p->fill;
      e->mic_primed = p->primed;
    } else {
      e->ear_primed = p->primed; /* playback_tick primes again if it ran dry meanwhile */
      e->ear_paced = p->paced;
    }
    took = 1;
  }
  pthread_mutex_unlock(&lot_lock);
  return took;
}

int devices_drop_parked(void) {
  int dropped = 0;
  pthread_mutex_lock(&lot_lock);
  for (int i = 0; i < LOT; i++) {
    if (!lot[i].pcm) continue;
    snd_pcm_drop(lot[i].pcm);
    snd_pcm_close(lot[i].pcm);
    lot[i].pcm = NULL;
    dropped++;
  }
  pthread_mutex_unlock(&lot_lock);
  return dropped;
}
