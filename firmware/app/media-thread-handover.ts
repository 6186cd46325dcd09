/**
 * The hand-over of the earpiece and microphone between the phone and a
 * call's native media thread (audio/call-media-thread.ts). During a call the
 * thread owns both devices; between calls the phone has them back for tones.
 *
 * A hardware device is exclusive (`hw`, `plughw`): a thread that opens it
 * while the last call's thread still has it gets EBUSY and tries again only
 * 2 s later — a preempting emergency call would start silent. So a thread
 * opens the devices only once the last one has closed them, waiting at most
 * HANDOVER_WAIT_MS (docs/audio.md, "the device hand-over between calls").
 */
import type { CallMediaThread } from "../../audio/call-media-thread.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";

/** How long a call's media thread waits for the last one to let go of the devices. */
export const HANDOVER_WAIT_MS = 200;

/** The ALSA names the thread opens. */
export interface CallDevices {
  earpiece: string;
  microphone: string;
}

export class MediaThreadHandOver {
  /** The call media thread that has the earpiece and microphone now, and its call. */
  private thread: CallMediaThread | undefined;
  private threadCall: string | undefined;
  /** Settles when the last call media thread has let go of the devices. */
  private free: Promise<void> = Promise.resolve();
  /** When the last thread let go of the devices (monotonic ms), as the phone learnt it. */
  private freedAt: number | undefined;
  private readonly releasedBefore = new WeakMap<CallMediaThread, number>();
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
   * When the last call's thread had let go of the devices for `media`'s thread
   * (monotonic ms): undefined if it had not after HANDOVER_WAIT_MS, or `media`
   * was never given them.
   */
  releasedFor(media: CallMediaThread): number | undefined {
    return this.releasedBefore.get(media);
  }

  /** Settles when no thread has the devices any more. */
  get devicesFree(): Promise<void> {
    return this.free;
  }

  /** The thread of `callId` — or `media`, when the call is already gone from the agent (BYE). */
  threadOf(callId: string, media: unknown): CallMediaThread | undefined {
    return this.threadCall === callId || this.thread === media ? this.thread : undefined;
  }

  /** Gives the call's thread the earpiece and microphone, once the last thread let go. */
  async connect(callId: string, media: CallMediaThread): Promise<void> {
    if (this.thread === media) return;
    if (this.thread) this.release(this.thread); // its call was never disconnected
    this.thread = media;
    this.threadCall = callId;
    if (!this.reporting.has(media)) {
      this.reporting.add(media);
      media.on("device", (e) => this.log("error", e.message));
      media.on("reopened", (d) => this.log("info", `ALSA device "${d}" is back`));
      media.on("remote-error", (m) => this.log("error", `call media: ${m}`));
    }
    const [, released] = await Promise.all([this.letGo(), this.released()]);
    if (released && this.freedAt !== undefined) this.releasedBefore.set(media, this.freedAt);
    if (this.thread !== media) return; // disconnected meanwhile
    await media.setDevices(this.devices.earpiece, this.devices.microphone);
    this.opened(media);
  }

  /** The thread lets go of the devices; `devicesFree` settles when it has closed them. */
  release(media: CallMediaThread): void {
    this.thread = undefined;
    this.threadCall = undefined;
    media.clearOverlay();
    this.freedAt = undefined;
    this.free = media.setDevices(undefined, undefined).then(() => {
      this.freedAt = monotonicMs();
    });
  }

  /** Waits for `devicesFree`, at most HANDOVER_WAIT_MS; going ahead after that is logged (false). */
  private async released(): Promise<boolean> {
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
      return false;
    }
    this.log("debug", `call media: devices free after ${(monotonicMs() - started).toFixed(1)} ms`);
    return true;
  }
}
