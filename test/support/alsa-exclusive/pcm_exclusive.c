/*
 * A test-only ALSA PCM that is exclusive like real hardware: a second open of
 * the same device (the same `lock` file) fails with -EBUSY until the first is
 * closed, as with `hw`/`plughw`. The lock is flock(2) on the file, so the
 * kernel releases it when the holder closes or dies.
 *
 * Otherwise it is a sink or source paced by CLOCK_MONOTONIC at the configured
 * rate, like a sound card: playback consumes frames as time passes (recording
 * them to `file` when one is named, appended) and underruns (-EPIPE) when the
 * application falls behind; capture delivers frames as time passes (from
 * `file`, looped, or silence) and overruns when the application does not read.
 * `log` names a file that gets one line per event, with CLOCK_MONOTONIC
 * nanoseconds (the clock of Node's process.hrtime) and the frames recorded so
 * far: "open T", "busy T", "start T FRAMES", "stop T FRAMES", "close T" (for
 * "start", FRAMES is the index in `file` of the first frame the start plays).
 * `close_ms` makes closing take that long (a device that takes its time to
 * let go); "close T" is written when the lock is released.
 *
 *   pcm_type.exclusive { lib "/abs/libasound_module_pcm_exclusive.so" }
 *   pcm.hw-earpiece { type exclusive lock "/dir/hw-earpiece.lock"
 *                     file "/dir/hw-earpiece.raw" log "/dir/hw-earpiece.log" }
 *
 * Built by test/support/alsa-exclusive/build.ts (an external I/O plugin,
 * alsa-lib's pcm_ioplug SDK). S16_LE interleaved, 1-2 channels, 8-48 kHz.
 */
#define _GNU_SOURCE
#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

typedef struct {
  snd_pcm_ioplug_t io;
  int lock_fd;
  int file_fd; /* playback: where frames are recorded */
  int log_fd;
  int timer_fd; /* ticks every period: what poll() waits on */
  int16_t *in; /* capture: the samples delivered, looped */
  size_t in_len, in_pos;
  int running;
  long close_ms;
  uint64_t start_ns;
  uint64_t pos; /* frames the device has played or captured since prepare */
  uint64_t recorded; /* frames written to `file` so far, over every open */
} exclusive_t;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static void note(int fd, const char *what, uint64_t frames, int with_frames) {
  if (fd < 0) return;
  char line[96];
  int n = with_frames ? snprintf(line, sizeof line, "%s %llu %llu\n", what, (unsigned long long)now_ns(),
                                 (unsigned long long)frames)
                      : snprintf(line, sizeof line, "%s %llu\n", what, (unsigned long long)now_ns());
  (void)!write(fd, line, (size_t)n); /* one O_APPEND write a line */
}

/* Where the device's clock is: frames since start, limited like a card's DMA
 * pointer (an underrun/overrun stops it: -EPIPE). */
static int advance(exclusive_t *x) {
  if (!x->running) return 0;
  snd_pcm_ioplug_t *io = &x->io;
  uint64_t elapsed = (now_ns() - x->start_ns) * io->rate / 1000000000ull;
  uint64_t appl = io->appl_ptr;
  if (io->stream == SND_PCM_STREAM_PLAYBACK) {
    if (elapsed >= appl) { /* everything written was played: underrun */
      x->pos = appl;
      return -EPIPE;
    }
  } else if (elapsed >= appl + io->buffer_size) { /* nobody read: overrun */
    x->pos = appl + io->buffer_size;
    return -EPIPE;
  }
  x->pos = elapsed;
  return 0;
}

static snd_pcm_sframes_t ex_pointer(snd_pcm_ioplug_t *io) {
  exclusive_t *x = io->private_data;
  if (advance(x) < 0) return -EPIPE;
  return (snd_pcm_sframes_t)(x->pos % io->buffer_size);
}

static int ex_start(snd_pcm_ioplug_t *io) {
  exclusive_t *x = io->private_data;
  x->start_ns = now_ns();
  x->running = 1;
  /* For playback the frames written before the start are already recorded:
   * the stream's first frame is the one recorded appl_ptr frames ago. */
  note(x->log_fd, "start", x->recorded - (io->stream == SND_PCM_STREAM_PLAYBACK ? io->appl_ptr : 0), 1);
  return 0;
}

static int ex_stop(snd_pcm_ioplug_t *io) {
  exclusive_t *x = io->private_data;
  if (x->running) note(x->log_fd, "stop", x->recorded, 1);
  x->running = 0;
  return 0;
}

static int ex_prepare(snd_pcm_ioplug_t *io) {
  exclusive_t *x = io->private_data;
  x->running = 0;
  x->pos = 0;
  return 0;
}

static snd_pcm_sframes_t ex_transfer(snd_pcm_ioplug_t *io, const snd_pcm_channel_area_t *areas,
                                     snd_pcm_uframes_t offset, snd_pcm_uframes_t size) {
  exclusive_t *x = io->private_data;
  int16_t *buf = (int16_t *)((char *)areas[0].addr + (areas[0].first + offset * areas[0].step) / 8);
  size_t samples = size * io->channels;
  if (io->stream == SND_PCM_STREAM_PLAYBACK) {
    if (x->file_fd >= 0) (void)!write(x->file_fd, buf, samples * sizeof *buf);
    x->recorded += size;
    return (snd_pcm_sframes_t)size;
  }
  for (size_t i = 0; i < samples; i++) {
    if (!x->in_len) {
      buf[i] = 0;
      continue;
    }
    buf[i] = x->in[x->in_pos];
    x->in_pos = (x->in_pos + 1) % x->in_len;
  }
  return (snd_pcm_sframes_t)size;
}

static int ex_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params) {
  exclusive_t *x = io->private_data;
  (void)params;
  uint64_t period_ns = (uint64_t)io->period_size * 1000000000ull / io->rate;
  struct itimerspec t = {{(time_t)(period_ns / 1000000000ull), (long)(period_ns % 1000000000ull)},
                         {(time_t)(period_ns / 1000000000ull), (long)(period_ns % 1000000000ull)}};
  return timerfd_settime(x->timer_fd, 0, &t, NULL) < 0 ? -errno : 0;
}

/* poll(): the period timer. Ready when the timer fired (ALSA checks avail itself
 * and waits again when there is not enough). */
static int ex_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfd, unsigned int nfds,
                           unsigned short *revents) {
  exclusive_t *x = io->private_data;
  uint64_t ticks;
  *revents = 0;
  if (nfds < 1) return 0;
  if (pfd[0].revents & POLLIN) {
    (void)!read(x->timer_fd, &ticks, sizeof ticks);
    *revents = io->stream == SND_PCM_STREAM_PLAYBACK ? POLLOUT : POLLIN;
  }
  return 0;
}

static int ex_close(snd_pcm_ioplug_t *io) {
  exclusive_t *x = io->private_data;
  if (x->close_ms > 0) {
    struct timespec t = {x->close_ms / 1000, (x->close_ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
  }
  note(x->log_fd, "close", 0, 0);
  if (x->lock_fd >= 0) close(x->lock_fd); /* releases the flock: the device is free */
  if (x->file_fd >= 0) close(x->file_fd);
  if (x->log_fd >= 0) close(x->log_fd);
  if (x->timer_fd >= 0) close(x->timer_fd);
  free(x->in);
  free(x);
  return 0;
}

static const snd_pcm_ioplug_callback_t callbacks = {
    .start = ex_start,
    .stop = ex_stop,
    .pointer = ex_pointer,
    .transfer = ex_transfer,
    .prepare = ex_prepare,
    .hw_params = ex_hw_params,
    .poll_revents = ex_poll_revents,
    .close = ex_close,
};

static int load_input(exclusive_t *x, const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : -errno; /* no file yet: silence */
  struct stat st;
  if (fstat(fd, &st) == 0 && st.st_size >= 2) {
    x->in = malloc((size_t)st.st_size);
    if (!x->in) {
      close(fd);
      return -ENOMEM;
    }
    ssize_t n = read(fd, x->in, (size_t)st.st_size);
    x->in_len = n > 0 ? (size_t)n / 2 : 0;
  }
  close(fd);
  return 0;
}

SND_PCM_PLUGIN_DEFINE_FUNC(exclusive) {
  snd_config_iterator_t i, next;
  const char *lock = NULL, *file = NULL, *log = NULL;
  long close_ms = 0;
  int err;
  (void)root;
  snd_config_for_each(i, next, conf) {
    snd_config_t *n = snd_config_iterator_entry(i);
    const char *id;
    if (snd_config_get_id(n, &id) < 0) continue;
    if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint")) continue;
    if (!strcmp(id, "close_ms")) {
      if (snd_config_get_integer(n, &close_ms) < 0 || close_ms < 0) {
        SNDERR("exclusive: close_ms must be a non-negative integer");
        return -EINVAL;
      }
      continue;
    }
    const char **slot = !strcmp(id, "lock") ? &lock : !strcmp(id, "file") ? &file : !strcmp(id, "log") ? &log : NULL;
    if (!slot || snd_config_get_string(n, slot) < 0) {
      SNDERR("exclusive: unknown or non-string field %s", id);
      return -EINVAL;
    }
  }
  if (!lock) {
    SNDERR("exclusive: a lock file is required");
    return -EINVAL;
  }
  exclusive_t *x = calloc(1, sizeof *x);
  if (!x) return -ENOMEM;
  x->file_fd = x->log_fd = x->timer_fd = -1;
  x->close_ms = close_ms;
  if (log) x->log_fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  x->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (x->lock_fd < 0) {
    err = -errno;
    goto fail;
  }
  if (flock(x->lock_fd, LOCK_EX | LOCK_NB) < 0) { /* someone has the device: like hw, EBUSY */
    err = errno == EWOULDBLOCK ? -EBUSY : -errno;
    note(x->log_fd, "busy", 0, 0);
    goto fail;
  }
  note(x->log_fd, "open", 0, 0);
  if (stream == SND_PCM_STREAM_PLAYBACK && file) {
    x->file_fd = open(file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (x->file_fd < 0) {
      err = -errno;
      goto fail;
    }
    struct stat st;
    if (fstat(x->file_fd, &st) == 0) x->recorded = (uint64_t)st.st_size / 2; /* mono frames so far */
  } else if (file && (err = load_input(x, file)) < 0) {
    goto fail;
  }
  x->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  if (x->timer_fd < 0) {
    err = -errno;
    goto fail;
  }
  x->io.version = SND_PCM_IOPLUG_VERSION;
  x->io.name = "deskphone exclusive test device";
  x->io.callback = &callbacks;
  x->io.private_data = x;
  x->io.poll_fd = x->timer_fd;
  x->io.poll_events = POLLIN;
  x->io.flags = SND_PCM_IOPLUG_FLAG_MONOTONIC;
  err = snd_pcm_ioplug_create(&x->io, name, stream, mode);
  if (err < 0) goto fail;
  static const unsigned access[] = {SND_PCM_ACCESS_RW_INTERLEAVED};
  static const unsigned formats[] = {SND_PCM_FORMAT_S16_LE};
  if ((err = snd_pcm_ioplug_set_param_list(&x->io, SND_PCM_IOPLUG_HW_ACCESS, 1, access)) < 0 ||
      (err = snd_pcm_ioplug_set_param_list(&x->io, SND_PCM_IOPLUG_HW_FORMAT, 1, formats)) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_CHANNELS, 1, 2)) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_RATE, 8000, 48000)) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 64, 64 * 1024)) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 256, 1024 * 1024)) < 0 ||
      (err = snd_pcm_ioplug_set_param_minmax(&x->io, SND_PCM_IOPLUG_HW_PERIODS, 2, 64)) < 0) {
    snd_pcm_ioplug_delete(&x->io); /* calls ex_close */
    return err;
  }
  *pcmp = x->io.pcm;
  return 0;
fail:
  if (x->lock_fd >= 0) close(x->lock_fd);
  if (x->file_fd >= 0) close(x->file_fd);
  if (x->log_fd >= 0) close(x->log_fd);
  if (x->timer_fd >= 0) close(x->timer_fd);
  free(x->in);
  free(x);
  return err;
}

SND_PCM_PLUGIN_SYMBOL(exclusive);
