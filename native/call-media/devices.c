/* The earpiece and microphone of a call, on the media thread (alsa-lib PCM API:
 * snd_pcm_open, snd_pcm_set_params, snd_pcm_readi/writei, snd_pcm_delay,
 * snd_pcm_recover, snd_pcm_drop). */
#include <errno.h>
#include <string.h>
#include "jitter.h"
#include "parts.h"


void device_close(device *d) {
  if (!d->pcm) return;
  snd_pcm_drop(d->pcm);
  snd_pcm_close(d->pcm);
  d->pcm = NULL;
}

static void device_fail(engine *e, device *d, const char *what, int err) {
  char msg[200];
  snprintf(msg, sizeof msg, "%s: %s", what, snd_strerror(err));
  device_close(d);
  /* Just after a switch, a device exclusive like hw may still be held by the thread of the
   * call this one replaces (a preemption on a busy machine): tried again every 100 ms for
   * a second before it counts as an outage, reported, and tried every 2 s. */
  if (err == -EBUSY && d->busy_retries < BUSY_RETRIES) {
    d->busy_retries++;
    d->retry_tick = e->ticks + BUSY_RETRY_TICKS;
    return;
  }
  d->retry_tick = e->ticks + RETRY_TICKS;
  if (!d->failed) media_report(e, d, EV_DEVICE_ERROR, msg); /* once per outage */
  d->failed = 1;
}

/* Takes up the device JavaScript asked for (or none); 1 if it changed. The one given
 * up is parked for the next call's thread when JavaScript asked for a hand-over. */
int device_switch(engine *e, device *d) {
  if (strcmp(d->want, d->name) == 0) return 0;
  if (d->pcm) e->st.let_go_ms = monotonic_ms();
  if (e->park_devices) device_park(e, d);
  else device_close(d);
  memcpy(d->name, d->want, sizeof d->name);
  d->failed = 0;
  d->retry_tick = 0;
  d->busy_retries = 0;
  return 1;
}

void device_open(engine *e, device *d) {
  if (!d->name[0] || d->pcm || e->ticks < d->retry_tick) return;
  if (device_take_parked(e, d)) { /* handed over open by the last call's thread */
    if (d->capture) e->st.mic_open_ms = monotonic_ms();
    else e->st.ear_open_ms = monotonic_ms();
    if (d->failed) media_report(e, d, EV_DEVICE_OK, "reopened");
    d->failed = 0;
    return;
  }
  if (handover_wait(e)) return; /* the last call's thread is about to hand them over */
  snd_pcm_t *pcm;
  int err = snd_pcm_open(&pcm, d->name, d->capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
                         SND_PCM_NONBLOCK);
  if (err < 0) return device_fail(e, d, "open", err);
  /* 8 kHz mono S16; alsa-lib converts the rate when the card runs at 48 kHz. */
  unsigned latency = (unsigned)(e->queue_frames + 2) * 20000;
  err = snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED, 1, 8000, 1, latency);
  if (err < 0) {
    snd_pcm_close(pcm);
    return device_fail(e, d, "set_params", err);
  }
  d->pcm = pcm;
  snd_pcm_sw_params_t *sw;
  snd_pcm_uframes_t buffer = 0, period = 0;
  snd_pcm_sw_params_alloca(&sw);
  snd_pcm_sw_params_current(pcm, sw);
  snd_pcm_get_params(pcm, &buffer, &period);
  /* Playback starts with the first frame, not when the buffer is full. */
  if (!d->capture) snd_pcm_sw_params_set_start_threshold(pcm, sw, FRAME);
  /* The thread keeps time and never polls the device: with avail_min at the whole
   * buffer a plugin (jack, pipewire) does not signal its poll descriptor every
   * period for nobody (measured: 750 failed writes a second per device). */
  if (buffer > 0) snd_pcm_sw_params_set_avail_min(pcm, sw, buffer);
  snd_pcm_sw_params(pcm, sw);
  if (d->capture) {
    snd_pcm_start(pcm);
    e->mic_fill = 0;
    e->mic_primed = 0;
    e->st.mic_open_ms = monotonic_ms();
  } else {
    e->ear_primed = 0;
    e->st.ear_open_ms = monotonic_ms();
  }
  if (d->failed) media_report(e, d, EV_DEVICE_OK, "reopened");
  d->failed = 0;
}

/* ---- microphone: one frame a tick from a small FIFO ---- */

void capture_frame(engine *e, int16_t *out) {
  device *d = &e->mic;
  if (d->pcm) {
    /* At most two frames a tick: a device that runs fast is trimmed below. */
    int room = MIC_FIFO - e->mic_fill;
    if (room > 2 * FRAME) room = 2 * FRAME;
    snd_pcm_sframes_t n = snd_pcm_readi(d->pcm, e->mic_fifo + e->mic_fill, (snd_pcm_uframes_t)room);
    if (n > 0) e->mic_fill += (int)n;
    else if (n < 0 && n != -EAGAIN) {
      int err = snd_pcm_recover(d->pcm, (int)n, 1); /* overrun: prepare again */
      if (err < 0) device_fail(e, d, "read", err);
      else snd_pcm_start(d->pcm);
    }
  }
  if (e->mic_fill >= FRAME && (e->mic_primed || e->mic_fill >= 2 * FRAME)) e->mic_primed = 1;
  if (e->mic_primed && e->mic_fill >= FRAME) {
    memcpy(out, e->mic_fifo, FRAME * sizeof *out);
    memmove(e->mic_fifo, e->mic_fifo + FRAME, (size_t)(e->mic_fill - FRAME) * sizeof *out);
    e->mic_fill -= FRAME;
    e->st.mic_frames++;
    if (e->mic_fill > 2 * FRAME) { /* the device clock runs ahead of ours: drop a frame */
      memmove(e->mic_fifo, e->mic_fifo + FRAME, (size_t)(e->mic_fill - FRAME) * sizeof *out);
      e->mic_fill -= FRAME;
      e->st.mic_dropped++;
    }
    return;
  }
  memset(out, 0, FRAME * sizeof *out);
  if (e->mic_primed) e->st.mic_short++;
}


/* ---- earpiece: written as fast as the device plays, never ahead of it ---- */

static void play_frame(engine *e, int16_t *frame) {
  if (e->receiving) jb_read(&e->jb, frame, FRAME);
  else memset(frame, 0, FRAME * sizeof *frame);
  for (int i = 0; i < FRAME && e->overlay_count > 0; i++) {
    int v = frame[i] + e->overlay[e->overlay_head];
    frame[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    e->overlay_head = (e->overlay_head + 1) % OVERLAY_SAMPLES;
    e->overlay_count--;
  }
}

void playback_tick(engine *e) {
  device *d = &e->ear;
  int16_t frame[FRAME];
  if (!d->pcm) { /* no earpiece: the jitter buffer is still drained on time */
    play_frame(e, frame);
    return;
  }
  /* A frame a tick on our clock, `queue_frames` ahead. A device that reports
   * its queue (a paced card) gets a frame more when it ran ahead of our clock
   * and none when it fell behind; one that does not (a file) gets one a tick. */
  snd_pcm_sframes_t delay = 0;
  int writes = 1, priming = 0;
  if (!e->ear_primed || snd_pcm_delay(d->pcm, &delay) < 0 || snd_pcm_state(d->pcm) == SND_PCM_STATE_XRUN) {
    if (e->ear_primed) e->st.ear_underruns++;
    snd_pcm_prepare(d->pcm);
    e->ear_primed = 1;
    writes = e->queue_frames;
    priming = 1;
  } else if (e->ear_paced) {
    if (delay < (e->queue_frames - 1) * FRAME - FRAME / 2) writes = 2;
    else if (delay > e->queue_frames * FRAME + FRAME / 2) writes = 0;
  }
  for (int i = 0; i < writes; i++) {
    uint64_t played = e->jb.stats.played;
    play_frame(e, frame);
    snd_pcm_sframes_t n = snd_pcm_writei(d->pcm, frame, FRAME);
    if (n == -EPIPE) { /* underrun: prepare and write again */
      e->st.ear_underruns++;
      snd_pcm_prepare(d->pcm);
      n = snd_pcm_writei(d->pcm, frame, FRAME);
    }
    if (n == -EAGAIN) break;
    if (n < 0) {
      int err = snd_pcm_recover(d->pcm, (int)n, 1);
      if (err < 0) return device_fail(e, d, "write", err);
      break;
    }
    e->st.ear_frames++;
    if (!e->st.first_ear_ms) e->st.first_ear_ms = monotonic_ms();
    if (!e->st.first_heard_ms && e->jb.stats.played > played) e->st.first_heard_ms = monotonic_ms();
  }
  if (priming && snd_pcm_delay(d->pcm, &delay) == 0) e->ear_paced = delay > 0;
}
