/**
 * Memory handed back after a burst. A burst of SIP traffic (a flood of
 * INVITEs, a run of calls) leaves garbage on V8's heap and free chunks in
 * glibc's arenas; an idle phone allocates too little for V8 to collect on its
 * own, so without help the process stays at the burst's high-water mark.
 *
 * Once the phone has been idle — on hook, no call, nothing ringing, nothing
 * dialled — and has seen no SIP activity for `quietMs`, and its RSS has grown
 * by `growthBytes` since the last settle, one full collection runs and then
 * glibc's malloc_trim(0) gives the freed pages back to the kernel. One more
 * follows `lingerMs` later (still idle and quiet): sip.js keeps each ended
 * transaction for 64·T1 = 32 s (RFC 3261 §17.1.1.2 Timer B/H, §17.1.2.2
 * Timer F/K), so what a burst left is garbage only then. malloc_trim runs
 * `trimDelayMs` after the collection: V8 frees ArrayBuffer backing stores
 * and unmaps its pages on background threads once the collection is done.
 *
 * The rule that matters: a settle never runs while a call is up or a call
 * rings. Every state the controller reports that is not `idle` cancels the
 * pending settle, and the timer checks the phase again when it fires. An idle
 * phone schedules nothing: the one timer is armed by activity only.
 *
 * The collection is atomic: the main thread stops for it (15–153 ms, median
 * 46, in the memory bench on a loaded 2-core machine; logged with each settle),
 * and an INVITE that arrives in that time waits for it. V8's
 * `gc({ type: "major", execution: "async" })` is no way out: in Node 20's V8
 * (11.3) it posts the same atomic collection as a task and pauses as long
 * (docs/benchmarks.md, Memory). Hence the 5 s of SIP quiet before it: a
 * flood or a run of calls never meets one.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { PhaseKind, PhoneState } from "../controller/state.ts";
import type { Log } from "./log.ts";
import { trimHeap } from "./native-system.ts";

/** What the settle watches: the controller's state, and SIP traffic the controller never sees. */
export interface SettleWatch {
  phone: {
    readonly state: PhoneState;
    on(event: "state", listener: (s: PhoneState) => void): unknown;
    off(event: "state", listener: (s: PhoneState) => void): unknown;
  };
  /** The SIP agent: INVITEs its triage refused (503 in a flood) are activity too. */
  agent?: {
    on(event: "refused", listener: (...a: unknown[]) => void): unknown;
    off(event: "refused", listener: (...a: unknown[]) => void): unknown;
  };
}

export interface MemorySettleOptions {
  /** Quiet this long (ms) before a settle (default 5 s). */
  quietMs?: number;
  /** The second settle after a burst, this long after the first (default 34 s: past 64·T1). */
  lingerMs?: number;
  /** Settle only when RSS grew at least this much since the last settle (default 4 MiB). */
  growthBytes?: number;
  /** malloc_trim this long after the collection (default 2 s), if still idle. */
  trimDelayMs?: number;
  /** A full collection (default: V8's gc, exposed for this process). */
  collect?: () => void;
  /** Freed allocator memory back to the kernel (default: malloc_trim(0) from native/system, when built). */
  trim?: () => void;
  /** The process's resident set, bytes. */
  rss?: () => number;
  log?: Log;
}

/** The settles run so far, for the log and the bench. */
export interface SettleRecord {
  beforeBytes: number;
  afterBytes: number;
  /** The collection's pause (ms). */
  pauseMs: number;
  /** malloc_trim's pause (ms). */
  trimMs: number;
}

let exposedGc: (() => void) | undefined;
/** V8's full collection, exposed to this process without a command-line flag. */
export function fullCollection(): () => void {
  if (!exposedGc) {
    setFlagsFromString("--expose-gc");
    exposedGc = runInNewContext("gc") as () => void;
  }
  return exposedGc;
}

const MiB = 1024 * 1024;

export class MemorySettle {
  private timer: NodeJS.Timeout | undefined;
  private trimTimer: NodeJS.Timeout | undefined;
  private baseline: number;
  private readonly quietMs: number;
  private readonly lingerMs: number;
  /** A burst was settled once; the second settle (after lingerMs) is still owed. */
  private owed = false;
  /** Settles since the last activity: at most two (quiet, then linger), then none. */
  private passes = 0;
  private readonly growth: number;
  private readonly collect: () => void;
  private readonly rss: () => number;
  readonly settles: SettleRecord[] = [];
  private readonly onState = (s: PhoneState) => this.seen(s.phase.kind);
  private readonly onRefused = () => this.seen(this.w.phone.state.phase.kind);

  constructor(
    private readonly w: SettleWatch,
    private readonly o: MemorySettleOptions = {},
  ) {
    this.quietMs = o.quietMs ?? 5000;
    this.lingerMs = o.lingerMs ?? 34_000;
    this.growth = o.growthBytes ?? 4 * MiB;
    this.collect = o.collect ?? fullCollection();
    this.rss = o.rss ?? (() => process.memoryUsage.rss());
    this.baseline = this.rss();
    w.phone.on("state", this.onState);
    w.agent?.on("refused", this.onRefused);
  }

  stop(): void {
    clearTimeout(this.timer);
    clearTimeout(this.trimTimer);
    this.timer = undefined;
    this.w.phone.off("state", this.onState);
    this.w.agent?.off("refused", this.onRefused);
  }

  /** Activity: a busy phase cancels the settle; idle (re)starts the quiet time. */
  private seen(phase: PhaseKind): void {
    if (phase !== "idle") {
      clearTimeout(this.timer);
      clearTimeout(this.trimTimer);
      this.timer = undefined;
      return;
    }
    this.passes = 0;
    this.arm(this.quietMs);
  }

  private arm(ms: number): void {
    clearTimeout(this.timer);
    // Never what keeps the process alive.
    this.timer = setTimeout(() => this.quiet(), ms).unref();
  }

  private quiet(): void {
    this.timer = undefined;
    // Checked again here: a call that came up in this very turn is never paused.
    if (this.w.phone.state.phase.kind !== "idle") return;
    const before = this.rss();
    if (this.passes === 0 && before - this.baseline < this.growth && !this.owed) return;
    const t0 = performance.now();
    this.collect();
    const pauseMs = performance.now() - t0;
    this.passes += 1;
    this.owed = this.passes === 1;
    if (this.owed) this.arm(this.lingerMs);
    clearTimeout(this.trimTimer);
    this.trimTimer = setTimeout(
      () => this.trim(before, pauseMs),
      this.o.trimDelayMs ?? 2000,
    ).unref();
  }

  private trim(before: number, pauseMs: number): void {
    this.trimTimer = undefined;
    if (this.w.phone.state.phase.kind !== "idle") return;
    const t0 = performance.now();
    try {
      (this.o.trim ?? trimHeap)();
    } catch (e) {
      this.o.log?.("warn", `memory: malloc_trim failed: ${(e as Error).message}`);
    }
    const trimMs = performance.now() - t0;
    const after = this.rss();
    this.baseline = after;
    this.settles.push({ beforeBytes: before, afterBytes: after, pauseMs, trimMs });
    this.o.log?.(
      "info",
      `memory: settled after a burst: RSS ${(before / MiB).toFixed(0)} → ${(after / MiB).toFixed(0)} MB (collection ${pauseMs.toFixed(0)} ms, malloc_trim ${trimMs.toFixed(0)} ms)`,
    );
  }
}
