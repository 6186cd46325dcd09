/**
 * Call-audio routing: what the handset's earpiece plays and where the
 * microphone goes, for the controller's tone, cue and audio effects.
 *
 * Outside calls the phone plays tones and cues on its own earpiece. A call's
 * audio goes one of two ways, by the media the SIP agent opened for it:
 * - on the native media thread (CallMediaThread, the firmware's default): the
 *   thread is handed the earpiece and microphone (media-thread-handover.ts)
 *   and tones are mixed into it (tone-overlay.ts);
 * - in JavaScript (RtpSession): the call is mixed into the phone's earpiece
 *   and fed from its microphone (js-call-audio.ts).
 */
import type { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { FrameMixer } from "../../audio/mixer.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import type { Cadence } from "../alerting/cadences.ts";
import { JsCallAudio, type Microphone } from "./js-call-audio.ts";
import type { Log } from "./log.ts";
import { type CallDevices, MediaThreadHandOver } from "./media-thread-handover.ts";
import { ToneOverlay, tonesPlaying } from "./tone-overlay.ts";

export interface CallAudioParts {
  agent: PhoneAgent;
  earpiece?: AlsaPlayback;
  microphone?: Microphone;
  /** The ALSA names of the earpiece and microphone, for calls on the native media thread. */
  callDevices?: CallDevices;
  log: Log;
}

export class CallAudio {
  private readonly earMix = new FrameMixer();
  private readonly earRate: number;
  /** The call whose audio is connected. */
  private audioCall: string | undefined;
  private readonly js: JsCallAudio;
  private readonly handOver: MediaThreadHandOver | undefined;
  private readonly overlay: ToneOverlay;

  constructor(private readonly p: CallAudioParts) {
    this.earRate = p.earpiece?.rate ?? 8000;
    this.js = new JsCallAudio(p.microphone, this.earRate, () => this.audioCall !== undefined);
    this.overlay = new ToneOverlay(this.earMix, this.earRate, (m) => this.handOver?.current === m);
    if (p.callDevices) {
      this.handOver = new MediaThreadHandOver(
        p.callDevices,
        () => Promise.all([p.earpiece?.close(), this.js.stopMicrophone()]),
        (media) => this.overlay.start(media),
        p.log,
      );
    }
  }

  tone(cadence: Cadence): void {
    this.earMix.set("tone", new ToneSource(cadence, { rate: this.earRate }));
    this.earpieceOn();
  }

  toneOff(): void {
    this.earMix.set("tone", undefined);
    this.earpieceIdle();
  }

  cue(cadence: Cadence): void {
    this.earMix.set("cue", new ToneSource(cadence, { rate: this.earRate }));
    this.earpieceOn();
  }

  /** The controller connects a call's audio (it has at most one connected). */
  connect(callId: string): void {
    this.audioCall = callId;
    this.handOver?.expectCall();
    this.connectMedia(callId);
  }

  /** The agent has the call's media (SDP done): connected now if the controller asked already. */
  mediaReady(callId: string): void {
    if (callId === this.audioCall) this.connectMedia(callId);
  }

  disconnect(callId: string): void {
    if (this.audioCall !== callId) return;
    this.audioCall = undefined;
    this.earMix.set("call", undefined);
    const media = this.p.agent.media(callId);
    if (media instanceof RtpSession) media.stopSending();
    // A call ended by BYE is gone from the agent already; its thread is still ours to release.
    const thread = this.handOver?.threadOf(callId, media);
    if (thread) {
      this.handOver?.release(thread);
      if (tonesPlaying(this.earMix)) this.earpieceOn();
      return;
    }
    void this.js.stopMicrophone();
    this.earpieceIdle();
  }

  /** When the last call's media thread had let go of the earpiece and microphone for `media` (monotonic ms). */
  devicesReleasedFor(media: CallMediaThread): number | undefined {
    return this.handOver?.releasedFor(media);
  }

  /** The phone stops: no more tones into a thread. */
  stop(): void {
    this.overlay.stop();
    this.handOver?.stop();
  }

  private connectMedia(callId: string): void {
    const media = this.p.agent.media(callId);
    if (!media) return; // comes with the agent's "media" event once SDP is done
    if (media instanceof CallMediaThread && this.handOver) {
      void this.handOver.connect(callId, media);
      return;
    }
    if (!(media instanceof RtpSession)) return;
    this.earMix.set("call", this.js.earpieceSource(media));
    this.earpieceOn();
    this.js.startSending(media);
  }

  private earpieceOn(): void {
    const thread = this.handOver?.current;
    if (thread) return this.overlay.start(thread);
    const ear = this.p.earpiece;
    const free = this.handOver?.devicesFree ?? Promise.resolve();
    // After a threaded call the earpiece is ours again once the thread let go.
    void free.then(() => {
      if (this.handOver?.current || !(this.audioCall || tonesPlaying(this.earMix))) return;
      // A call connected whose thread is still to come (its media is opened with the
      // 200 OK): the devices are its, handed over; the tones go into it once it has them.
      if (
        this.handOver &&
        this.audioCall &&
        !(this.p.agent.media(this.audioCall) instanceof RtpSession)
      )
        return;
      this.handOver?.dropHandedOver();
      ear?.play(this.earMix);
    });
  }

  private earpieceIdle(): void {
    if (!this.audioCall && !tonesPlaying(this.earMix)) this.p.earpiece?.stop();
  }
}
