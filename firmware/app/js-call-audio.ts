/**
 * The earpiece and microphone for a call carried in JavaScript (RtpSession:
 * builds without the native media thread, tests and the bench with an
 * injected microphone): the far end's audio is mixed into the phone's own
 * earpiece, and the microphone's frames wait for the RTP sender's 20 ms clock.
 */
import type { AlsaCapture } from "../../audio/alsa-capture.ts";
import { CaptureQueue } from "../../audio/capture-queue.ts";
import type { FrameSource } from "../../audio/frame-source.ts";
import { downsample, upsampled } from "../../audio/resample.ts";
import type { RtpSession } from "../../audio/rtp-session.ts";

/** The handset microphone: an ALSA capture device, or any source (tests, bench). */
export type Microphone = AlsaCapture | FrameSource;

export class JsCallAudio {
  /** Microphone frames wait here for the RTP sender's 20 ms clock. */
  private readonly micQueue = new CaptureQueue();

  constructor(
    private readonly microphone: Microphone | undefined,
    /** The earpiece's rate, Hz. */
    private readonly earRate: number,
    /** Whether a call's audio is connected: the microphone is queued only then. */
    inCall: () => boolean,
  ) {
    const mic = microphone;
    if (mic && "on" in mic) {
      mic.on("frame", (f) => {
        if (!inCall()) return;
        this.micQueue.push(mic.rate === 8000 ? f : downsample(f, mic.rate, 8000));
      });
    }
  }

  /** What the earpiece plays of the call: the far end, at the earpiece's rate. */
  earpieceSource(rtp: RtpSession): FrameSource {
    return this.earRate === 8000 ? rtp : upsampled(rtp, 8000, this.earRate);
  }

  /** The microphone starts and the call sends it. */
  startSending(rtp: RtpSession): void {
    const mic = this.microphone;
    if (mic && "start" in mic) {
      this.micQueue.clear();
      mic.start();
      rtp.startSending(this.micQueue);
    } else if (mic) rtp.startSending(mic);
  }

  /** The microphone stops (an ALSA one; an injected source runs on). */
  stopMicrophone(): Promise<void> | undefined {
    const mic = this.microphone;
    return mic && "stop" in mic ? mic.stop() : undefined;
  }
}
