/**
 * The hand-over of the earpiece and microphone between the phone and a
 * call's native media thread (audio/call-media-thread.ts). During a call the
 * thread owns both devices; between calls the phone has them back for tones.
 *
 * A hardware device is exclusive (`hw`, `plughw`): a thread that opens it
 * while the last call's thread still has it gets EBUSY and tries again only
 * 2 s later — a preempting emergency call would start silent. So a thread
 * opens the devices only once the last one has let go of them, waiting at most
 * HANDOVER_WAIT_MS (docs/audio.md, "the device hand-over between calls").
 *
 * When the controller ends one call's audio and connects the next in the same
 * step (a preemption, a flash between two calls), the last call's thread does
 * not close the devices: it hands them over open, and the next call's thread
 * takes them up as they are — no close, no open, no new microphone priming
 * (native/call-media/handover.c). What no thread takes is closed when the phone
 * wants the devices itself, or HANDED_OVER_MS after the hand-over.
 */
import { type CallMediaThread, dropHandedOverDevices } from "../../audio/call-media-thread.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";

/** How long a call's media thread waits for the last one to let go of the devices. */
export const HANDOVER_WAIT_MS = 200;
/** How long devices handed over stay open for the next call's thread before they are closed. */
export const HANDED_OVER_MS = 1000;

/** The ALSA names the thread opens. */
export interface CallDevices {
  earpiece: string;
  microphone: string;
}

/** Threads and their predecessors kept for the hand-over report. */
const KEPT_PAIRS = 4;

export class MediaThreadHandOver {
  /** The call media thread that has the earpiece and microphone now, and its call. */
  private thread: CallMediaThread | undefined;
  private threadCall: string | undefined;
  /** Settles when the last call media thread has let go of the devices. */
  private free: Promise<void> = Promise.resolve();
  /**
   * The last few threads given the devices, each with the one that had them
   * before it (for the hand-over report, read seconds later). Bounded: a map
   * from each thread to its predecessor would chain every call's thread to
   * the one before it, all of them kept alive by the last (the soak's heap
   * grew 18 kB a call).
   */
  private readonly before: { media: CallMediaThread; prev: CallMediaThread }[] = [];
  private lastThread: CallMediaThread | undefined;
  /** A call is connected in this event-loop turn: a thread released in it hands over. */
  private successor = false;
  /** The last release handed the devices over: the next thread need not wait for it here. */
  private handingOver = false;
  private dropTimer: NodeJS.Timeout | undefined;
  private readonly reporting = new WeakSet<CallMediaThread>();

  constructor(
    private readonly devices: CallDevices,
    /** The phone lets go of its own earpiece and microphone (JS path, tones). */
    private readonly letGo: () => Promise<unknown>,
    /** The thread has the devices: tones playing now go into it. */
    private readonly opened: (media: CallMediaThread) => void,
    private readonly log: Log,
  ) {}

  /** The thread that has the devices now, if any. */
  get current(): CallMediaThread | undefined {
    return this.thread;
  }

  /**
   * When the thread that had the devices before `media`'s let go of them
   * (monotonic ms, the thread's own stamp): undefined if there was none.
   */
  releasedFor(media: CallMediaThread): number | undefined {
    return this.before.find((b) => b.media === media)?.prev.started().letGo;
  }

  /** Settles when no thread has the devices any more. */
  get devicesFree(): Promise<void> {
    return this.free;
  }

  /** The thread of `callId` — or `media`, when the call is already gone from the agent (BYE). */
  threadOf(callId: string, media: unknown): CallMediaThread | undefined {
    return this.threadCall === callId || this.thread === media ? this.thread : undefined;
  }

  /**
   * A call's audio is connected in this turn (its media may come later): a
   * thread released in the same turn hands the devices over instead of closing them.
   */
  expectCall(): void {
    if (this.successor) return;
    this.successor = true;
    queueMicrotask(() => {
      this.successor = false;
    });
  }

  /** The phone opens the devices itself: what a thread handed over and none took is closed first. */
  dropHandedOver(): void {
    clearTimeout(this.dropTimer);
    this.dropTimer = undefined;
    const n = dropHandedOverDevices();
    if (n > 0) this.log("debug", `call media: ${n} device(s) handed over and not taken up: closed`);
  }

  /** The phone stops. */
  stop(): void {
    this.dropHandedOver();
  }

  /** Gives the call's thread the earpiece and microphone, once the last thread let go. */
  async connect(callId: string, media: CallMediaThread): Promise<void> {
    if (this.thread === media) return;
    // Its call was never disconnected: the new thread takes the devices over.
    if (this.thread) this.release(this.thread, true);
    this.thread = media;
    this.threadCall = callId;
    if (!this.reporting.has(media)) {
      this.reporting.add(media);
      media.on("device", (e) => this.log("error", e.message));
      media.on("reopened", (d) => this.log("info", `ALSA device "${d}" is back`));
      media.on("remote-error", (m) => this.log("error", `call media: ${m}`));
    }
    if (this.lastThread && this.lastThread !== media) {
      this.before.push({ media, prev: this.lastThread });
      if (this.before.length > KEPT_PAIRS) this.before.shift();
    }
    this.lastThread = media;
    await this.letGo(); // the release's end-of-step decision has been taken by now
    // Handed over: the new thread takes the devices as soon as the old one has parked
    // them, without this process hearing of it first (native/call-media/handover.c).
    if (!this.handingOver) await this.released();
    if (this.thread !== media) return; // disconnected meanwhile
    await media.setDevices(this.devices.earpiece, this.devices.microphone);
    this.opened(media);
  }

  /**
   * The thread lets go of the devices; `devicesFree` settles when it has closed
   * them, or handed them over when a call is connected in the same turn
   * (decided at the end of the turn: the controller's step disconnects first).
   */
  release(media: CallMediaThread, toNext = false): void {
    this.thread = undefined;
    this.threadCall = undefined;
    media.clearOverlay();
    let settle: () => void = () => {};
    this.free = new Promise<void>((resolve) => {
      settle = resolve;
    });
    queueMicrotask(() => {
      const handOver = toNext || this.successor;
      this.handingOver = handOver;
      void media.setDevices(undefined, undefined, handOver).then(settle);
      if (!handOver) return;
      clearTimeout(this.dropTimer);
      this.dropTimer = setTimeout(() => this.dropHandedOver(), HANDED_OVER_MS);
    });
  }

  /** Waits for `devicesFree`, at most HANDOVER_WAIT_MS; going ahead after that is logged. */
  private async released(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), HANDOVER_WAIT_MS);
    });
    const started = monotonicMs();
    const outcome = await Promise.race([this.free.then(() => "free" as const), late]);
    clearTimeout(timer);
    if (outcome === "late") {
      this.log(
        "warn",
        `call media: the last call's thread still has the earpiece and microphone after ${HANDOVER_WAIT_MS} ms; opening them anyway`,
      );
      return;
    }
    this.log("debug", `call media: devices free after ${(monotonicMs() - started).toFixed(1)} ms`);
  }
}
