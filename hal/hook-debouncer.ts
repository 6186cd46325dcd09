/**
 * Turns raw hook-switch edges (level + timestamp) into offHook / onHook /
 * flash, by the rules of HookSwitch in contracts.ts. Used by every hardware
 * backend; the clock decides only when an on-hook becomes final.
 *
 * Norms: switch debounce 20–30 ms; hook flash 100–900 ms on-hook (vendor
 * defaults; a European "timed break recall" is 70–130 ms).
 */
import type { Clock, HookEvent, Ms } from "./contracts.ts";

export interface HookTiming {
  debounceMs: Ms;
  flashMinMs: Ms;
  flashMaxMs: Ms;
}

export const DEFAULT_HOOK_TIMING: HookTiming = { debounceMs: 25, flashMinMs: 100, flashMaxMs: 900 };

export class HookDebouncer {
  /** The settled, reported state. */
  offHook: boolean;
  private raw: boolean;
  private pending = false;
  private rawSince: Ms;
  private settleTimer: unknown;
  private onHookAt: Ms | undefined;
  private finalTimer: unknown;

  constructor(
    initialOffHook: boolean,
    private readonly clock: Clock,
    private readonly emit: (e: HookEvent) => void,
    private readonly t: HookTiming = DEFAULT_HOOK_TIMING,
  ) {
    this.offHook = initialOffHook;
    this.raw = initialOffHook;
    this.rawSince = clock.now();
  }

  /** A raw edge: the new level and when it happened (kernel time where known). */
  edge(offHook: boolean, at: Ms): void {
    if (offHook === this.raw) return;
    // Edges read late arrive together: the level before this edge may already
    // have held long enough, by the edges' own times, to count.
    if (this.pending && at - this.rawSince >= this.t.debounceMs) {
      this.clock.clearTimeout(this.settleTimer);
      this.settle(this.raw, this.rawSince);
    }
    this.pending = true;
    this.raw = offHook;
    this.rawSince = at;
    this.clock.clearTimeout(this.settleTimer);
    // Settles once the level has held for debounceMs; the timer fires on the
    // clock, the decision uses the edge's own timestamp.
    const wait = Math.max(0, this.t.debounceMs - (this.clock.now() - at));
    this.settleTimer = this.clock.setTimeout(() => this.settle(offHook, at), wait);
  }

  private settle(offHook: boolean, at: Ms): void {
    if (this.raw !== offHook || this.rawSince !== at) return;
    this.pending = false;
    if (!offHook && this.offHook && this.onHookAt === undefined) {
      // Handset down: a flash or a hang-up? Wait until an off-hook edge at
      // exactly flashMaxMs would have settled to tell.
      this.onHookAt = at;
      const left = Math.max(0, this.t.flashMaxMs + this.t.debounceMs - (this.clock.now() - at));
      this.finalTimer = this.clock.setTimeout(() => this.final(at), left);
      return;
    }
    if (offHook && this.onHookAt !== undefined) {
      const down = at - this.onHookAt;
      this.onHookAt = undefined;
      this.clock.clearTimeout(this.finalTimer);
      if (down > this.t.flashMaxMs) {
        // The final timer would have fired; report both in order.
        this.report(false);
        this.report(true);
      } else if (down >= this.t.flashMinMs) this.emit("flash");
      // Shorter than a flash: a glitch, nothing happened.
      return;
    }
    if (offHook !== this.offHook) this.report(offHook);
  }

  private final(at: Ms): void {
    if (this.onHookAt !== at || this.raw) return;
    this.onHookAt = undefined;
    this.report(false);
  }

  private report(offHook: boolean): void {
    if (offHook === this.offHook) return;
    this.offHook = offHook;
    this.emit(offHook ? "offHook" : "onHook");
  }

  dispose(): void {
    this.clock.clearTimeout(this.settleTimer);
    this.clock.clearTimeout(this.finalTimer);
  }
}
