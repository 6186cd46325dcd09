/**
 * Ends a call whose far end vanished (RFC 3550 §6.3.5 in spirit: a source
 * silent for several RTCP intervals has left): `onInactive` is called once
 * when no RTP and no RTCP has been accepted from the far end for `ms`; it is
 * re-armed when packets come again.
 *
 * On hold (any direction but sendrecv, ours or theirs: RFC 3264 §8.4) RTP
 * may rightly stop, and many far ends send no RTCP at all: the watch is
 * suspended then — unless the far end has sent RTCP in this call, in which
 * case RTCP goes on on hold (RFC 3264 §5.1) and its silence counts too.
 *
 * `heard()` is a count of packets accepted from the far end (RTP + RTCP);
 * the watch samples it every quarter of `ms` (at most every second), so
 * the event comes between `ms` and `ms` + that step after the last packet.
 */
export interface InactivityWatchOptions {
  ms: number;
  heard: () => number;
  /** True while the watch should not run (on hold with no RTCP heard). */
  suspended: () => boolean;
  onInactive: () => void;
}

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

export class InactivityWatch {
  private timer: NodeJS.Timeout | undefined;
  private count = -1;
  private since = 0;
  private fired = false;

  constructor(private readonly o: InactivityWatchOptions) {}

  /** Starts watching (when the SDP has named the far end); again is a no-op. */
  start(): void {
    if (this.timer || !(this.o.ms > 0)) return;
    this.count = this.o.heard();
    this.since = monotonicMs();
    const step = Math.max(10, Math.min(1000, this.o.ms / 4));
    this.timer = setInterval(() => this.check(), step);
    this.timer.unref();
  }

  private check(): void {
    const now = monotonicMs();
    const count = this.o.heard();
    if (count !== this.count || this.o.suspended()) {
      this.count = count;
      this.since = now;
      this.fired = false;
      return;
    }
    if (!this.fired && now - this.since >= this.o.ms) {
      this.fired = true;
      this.o.onInactive();
    }
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
