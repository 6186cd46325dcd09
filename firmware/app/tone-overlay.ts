/**
 * The tone overlay pump: during a call on the native media thread the thread
 * owns the earpiece, so call-progress tones and cues are mixed into its
 * earpiece (CallMediaThread.overlay) about 120 ms ahead, topped up every
 * 60 ms while any plays (docs/audio.md).
 */
import type { CallMediaThread } from "../../audio/call-media-thread.ts";
import type { FrameMixer } from "../../audio/mixer.ts";
import { downsample } from "../../audio/resample.ts";
import { monotonicMs } from "./monotonic.ts";

/** The earpiece mixer's tone and cue sources (its call source is the thread's own). */
export function tonesPlaying(mix: FrameMixer): boolean {
  return mix.has("tone") || mix.has("cue");
}

export class ToneOverlay {
  private pump: NodeJS.Timeout | undefined;

  constructor(
    private readonly mix: FrameMixer,
    /** The mixer's rate, Hz; the thread takes 8 kHz. */
    private readonly rate: number,
    /** Whether `media` still has the devices: the pump stops when it has not. */
    private readonly owns: (media: CallMediaThread) => boolean,
  ) {}

  /** Starts pumping into `media` if a tone or cue plays and no pump runs. */
  start(media: CallMediaThread): void {
    if (this.pump || !tonesPlaying(this.mix)) return;
    const rate = this.rate;
    const frame = new Int16Array((rate / 1000) * 20);
    const start = monotonicMs();
    let pushed = 0;
    const fill = () => {
      if (!this.owns(media) || !tonesPlaying(this.mix)) {
        this.stop();
        return;
      }
      for (const due = Math.floor((monotonicMs() - start) / 20) + 6; pushed < due; pushed++) {
        this.mix.read(frame);
        media.overlay(rate === 8000 ? frame : downsample(frame, rate, 8000));
      }
    };
    this.pump = setInterval(fill, 60);
    fill();
  }

  stop(): void {
    clearInterval(this.pump);
    this.pump = undefined;
  }
}
