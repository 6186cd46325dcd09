/**
 * Underruns of a PCM substream as the kernel shows them: ALSA restarts a
 * playback stream after each underrun (snd_pcm_prepare, then start), and every
 * start sets the substream's trigger_time in /proc/asound/<card>/pcm<D>p/sub<N>/status
 * (SND_VERBOSE_PROCFS, on in Debian's kernel; its xrun trace points are not).
 * Polled every few ms, the distinct trigger times are a lower bound on the
 * restarts; an "XRUN" state seen counts too. hw_params gives the buffer the
 * phone set.
 */
import { readFileSync } from "node:fs";

export interface XrunReport {
  /** Stream starts seen after the first (each one follows an underrun or a drop). */
  restarts: number;
  /** Polls that found the substream in the XRUN state. */
  xrunPolls: number;
  polls: number;
  /** The substream's rate, period and buffer as the opener set them. */
  params: string;
}

export class XrunWatch {
  private readonly starts = new Set<string>();
  private xrunPolls = 0;
  private polls = 0;
  private params = "";
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly dir: string,
    everyMs = 10,
  ) {
    this.timer = setInterval(() => this.poll(), everyMs);
  }

  private poll(): void {
    let s: string;
    try {
      s = readFileSync(`${this.dir}/status`, "utf8");
    } catch {
      return;
    }
    this.polls++;
    const trigger = /trigger_time:\s*(\S+)/.exec(s)?.[1];
    if (trigger) this.starts.add(trigger);
    if (/state:\s*XRUN/.test(s)) this.xrunPolls++;
    if (!this.params) {
      try {
        const hw = readFileSync(`${this.dir}/hw_params`, "utf8");
        const f = (k: string) => new RegExp(`${k}:\\s*(\\S+)`).exec(hw)?.[1] ?? "?";
        if (/^rate:/m.test(hw))
          this.params = `rate ${f("rate")}, period ${f("period_size")}, buffer ${f("buffer_size")} frames`;
      } catch {}
    }
  }

  stop(): XrunReport {
    clearInterval(this.timer);
    return {
      restarts: Math.max(0, this.starts.size - 1),
      xrunPolls: this.xrunPolls,
      polls: this.polls,
      params: this.params || "not open",
    };
  }
}
