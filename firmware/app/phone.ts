/**
 * The running phone: feeds SIP and handset events to the call controller and
 * carries out the effects it returns. All wiring of controller, SIP agent,
 * audio devices, LEDs and journal is here.
 */
import { EventEmitter } from "node:events";
import type { AlsaCapture } from "../../audio/alsa-capture.ts";
import type { AlsaNativePlayback } from "../../audio/alsa-native.ts";
import type { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { CaptureQueue } from "../../audio/capture-queue.ts";
import type { FrameSource } from "../../audio/frame-source.ts";
import { FrameMixer } from "../../audio/mixer.ts";
import { downsample, upsampled } from "../../audio/resample.ts";
import { RtpSession } from "../../audio/rtp-session.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import type { HookSwitch, Keypad } from "../../hal/contracts.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { type AlertConfig, DEFAULT_ALERT_CONFIG } from "../alerting/alert-class.ts";
import { callProgressTones } from "../alerting/cadences.ts";
import { classify } from "../alerting/classify.ts";
import type { LedName, LedPattern } from "../alerting/led-pattern.ts";
import { alertFrom } from "../controller/call.ts";
import type { Effect, JournalRecord } from "../controller/effects.ts";
import type { Key, PhoneEvent } from "../controller/events.ts";
import { boot, transition } from "../controller/reduce.ts";
import {
  type ControllerConfig,
  DEFAULT_CONTROLLER_CONFIG,
  initialState,
  type MissedEmergency,
  type PhoneState,
} from "../controller/state.ts";

export interface LedOutput {
  set(name: LedName, pattern: LedPattern): void;
}

export interface JournalSink {
  append(record: JournalRecord): void;
}

export interface PhoneParts {
  agent: PhoneAgent;
  alertConfig?: AlertConfig;
  controller?: Partial<ControllerConfig>;
  ringer?: AlsaPlayback | AlsaNativePlayback;
  earpiece?: AlsaPlayback;
  /** The handset microphone: an ALSA capture device, or any source (tests, bench). */
  microphone?: AlsaCapture | FrameSource;
  /**
   * The ALSA names of the earpiece and microphone, for call media that runs
   * on its own thread (CallMediaThread): during a call the thread owns both
   * devices, and tones and cues are mixed in over the call.
   */
  callDevices?: { earpiece: string; microphone: string };
  /** The user's ringer volume, dB (an alert class with ringLevel "full" ignores it). */
  ringerVolumeDb?: number;
  leds?: LedOutput;
  /** The handset: hook switch and keypad from the HAL (or the bench's mock). */
  hook?: HookSwitch;
  keypad?: Keypad;
  journal?: JournalSink;
  restored?: { missed?: readonly MissedEmergency[]; dnd?: boolean };
  log?: (level: "debug" | "info" | "warn" | "error", message: string) => void;
}

const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;
/** How long a call's media thread waits for the last one to let go of the devices. */
const HANDOVER_WAIT_MS = 200;

export class Phone extends EventEmitter<{ effects: [PhoneEvent, Effect[]]; state: [PhoneState] }> {
  private s: PhoneState;
  private readonly alertConfig: AlertConfig;
  private readonly earMix = new FrameMixer();
  /** Microphone frames wait here for the RTP sender's 20 ms clock. */
  private readonly micQueue = new CaptureQueue();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private audioCall: string | undefined;
  /** The call media thread that has the earpiece and microphone now, and its call. */
  private threaded: CallMediaThread | undefined;
  private threadedCall: string | undefined;
  /** Settles when the last call media thread has let go of the devices. */
  private devicesFree: Promise<void> = Promise.resolve();
  private overlayPump: NodeJS.Timeout | undefined;
  private readonly reporting = new WeakSet<CallMediaThread>();
  private readonly log: NonNullable<PhoneParts["log"]>;

  constructor(private readonly p: PhoneParts) {
    super();
    this.alertConfig = p.alertConfig ?? DEFAULT_ALERT_CONFIG;
    this.log = p.log ?? (() => {});
    this.s = initialState(
      {
        ...DEFAULT_CONTROLLER_CONFIG,
        tones: callProgressTones(this.alertConfig.country),
        ...p.controller,
      },
      p.restored,
    );
    const a = p.agent;
    a.on("incoming", (c) => {
      const cls = classify(
        {
          alertInfo: c.alertInfo,
          ...(c.priority !== undefined && { priority: c.priority }),
          resourcePriority: c.resourcePriority,
          trusted: c.trusted,
        },
        this.alertConfig,
      );
      if (cls.untrustedIgnored.length) {
        this.log(
          "warn",
          `call ${c.callId} from ${c.remote}: ${cls.untrustedIgnored.join(", ")} not honoured from an untrusted source`,
        );
      }
      this.dispatch({
        type: "incoming",
        at: monotonicMs(),
        callId: c.callId,
        remote: c.remote,
        alert: alertFrom(cls),
      });
    });
    a.on("remote-ringing", (callId) =>
      this.dispatch({ type: "remote-ringing", at: monotonicMs(), callId }),
    );
    a.on("remote-answered", (callId) =>
      this.dispatch({ type: "remote-answered", at: monotonicMs(), callId }),
    );
    a.on("remote-ended", (callId, cause, code) =>
      this.dispatch({
        type: "remote-ended",
        at: monotonicMs(),
        callId,
        cause,
        ...(code && { code }),
      }),
    );
    a.on("registration", (state) =>
      this.dispatch({
        type: "registration",
        at: monotonicMs(),
        registered: state === "registered",
      }),
    );
    a.on("media", (callId) => {
      if (callId === this.audioCall) this.connectAudio(callId);
    });
    const mic = p.microphone;
    if (mic && "on" in mic) {
      mic.on("frame", (f) => {
        if (!this.audioCall) return;
        this.micQueue.push(mic.rate === 8000 ? f : downsample(f, mic.rate, 8000));
      });
      mic.on("error", (e) => this.log("error", e.message));
    }
    for (const dev of [p.ringer, p.earpiece]) dev?.on("error", (e) => this.log("error", e.message));
    p.hook?.on("offHook", () => this.hook(true));
    p.hook?.on("onHook", () => this.hook(false));
    p.hook?.on("flash", () => this.flash());
    p.keypad?.on("keyDown", (k) => this.key(k));
  }

  get state(): PhoneState {
    return this.s;
  }

  start(): void {
    const [s, fx] = boot(this.s);
    this.s = s;
    this.run(fx);
    this.p.agent.start();
  }

  async stop(): Promise<void> {
    for (const t of this.timers.values()) clearTimeout(t);
    clearInterval(this.overlayPump);
    await this.p.agent.stop();
    const mic = this.p.microphone;
    if (mic && "stop" in mic) await mic.stop();
    await Promise.all([this.p.ringer?.close(), this.p.earpiece?.close()]);
  }

  /** Handset events, from the HAL or the bench. */
  hook(offHook: boolean): void {
    this.dispatch({ type: "hook", at: monotonicMs(), offHook });
  }
  flash(): void {
    this.dispatch({ type: "flash", at: monotonicMs() });
  }
  key(key: Key): void {
    this.dispatch({ type: "key", at: monotonicMs(), key });
  }

  dispatch(ev: PhoneEvent): void {
    const [s, fx] = transition(this.s, ev);
    this.s = s;
    this.run(fx);
    this.emit("effects", ev, fx);
    this.emit("state", s);
  }

  private run(fx: Effect[]): void {
    for (const e of fx) {
      try {
        this.carryOut(e);
      } catch (err) {
        // One failing part never stops the others (the ring still flashes the LEDs).
        this.log("error", `${e.type} failed: ${(err as Error).message}`);
      }
    }
  }

  private carryOut(e: Effect): void {
    const a = this.p.agent;
    switch (e.type) {
      case "send-ringing":
        return a.ringing(e.callId);
      case "reject":
        return a.reject(e.callId, e.code, e.reason);
      case "answer": {
        const callId = e.callId;
        a.answer(callId).then(
          () => this.dispatch({ type: "answer-result", at: monotonicMs(), callId, ok: true }),
          (err: Error) =>
            this.dispatch({
              type: "answer-result",
              at: monotonicMs(),
              callId,
              ok: false,
              reason: err.message,
            }),
        );
        return;
      }
      case "end-call":
        return a.hangUp(e.callId, e.reason);
      case "cancel":
        return a.hangUp(e.callId);
      case "dial":
        return a.dial(e.callId, e.target);
      case "hold":
        return a.hold(e.callId, true);
      case "resume":
        return a.hold(e.callId, false);
      case "send-dtmf":
        return a.sendDtmf(e.callId, e.digit);
      case "ringer": {
        const r = this.p.ringer;
        const gainDb = e.level === "full" ? 0 : (this.p.ringerVolumeDb ?? -6);
        return r?.play(new ToneSource(e.cadence, { rate: r.rate, gainDb }));
      }
      case "ringer-off":
        return this.p.ringer?.stop();
      case "tone":
        this.earMix.set("tone", new ToneSource(e.cadence, { rate: this.earRate() }));
        return this.earpieceOn();
      case "tone-off":
        this.earMix.set("tone", undefined);
        return this.earpieceIdle();
      case "cue":
        this.earMix.set("cue", new ToneSource(e.cadence, { rate: this.earRate() }));
        return this.earpieceOn();
      case "audio-connect":
        this.audioCall = e.callId;
        return this.connectAudio(e.callId);
      case "audio-disconnect":
        return this.disconnectAudio(e.callId);
      case "led":
        return this.p.leds?.set(e.led, e.pattern);
      case "start-timer": {
        clearTimeout(this.timers.get(e.name));
        const t = setTimeout(() => {
          this.timers.delete(e.name);
          this.dispatch({ type: "timer", at: monotonicMs(), name: e.name, seq: e.seq });
        }, e.ms);
        this.timers.set(e.name, t);
        return;
      }
      case "cancel-timer":
        clearTimeout(this.timers.get(e.name));
        this.timers.delete(e.name);
        return;
      case "journal":
        return this.p.journal?.append(e.record);
      case "ignored":
        return this.log("debug", `${e.event} ignored: ${e.reason}`);
    }
  }

  private earRate(): number {
    return this.p.earpiece?.rate ?? 8000;
  }

  private earpieceOn(): void {
    if (this.threaded) return this.pumpOverlay(this.threaded);
    const ear = this.p.earpiece;
    // After a threaded call the earpiece is ours again once the thread let go.
    void this.devicesFree.then(() => {
      if (!this.threaded && (this.audioCall || this.earMix.has("tone") || this.earMix.has("cue")))
        ear?.play(this.earMix);
    });
  }

  private earpieceIdle(): void {
    if (!this.audioCall && !this.earMix.has("tone") && !this.earMix.has("cue"))
      this.p.earpiece?.stop();
  }

  private connectAudio(callId: string): void {
    const media = this.p.agent.media(callId);
    if (!media) return; // comes with the agent's "media" event once SDP is done
    if (media instanceof CallMediaThread && this.p.callDevices) {
      void this.connectThreaded(callId, media, this.p.callDevices);
      return;
    }
    if (!(media instanceof RtpSession)) return;
    const rtp = media;
    const rate = this.earRate();
    this.earMix.set("call", rate === 8000 ? rtp : upsampled(rtp, 8000, rate));
    this.earpieceOn();
    const mic = this.p.microphone;
    if (mic && "start" in mic) {
      this.micQueue.clear();
      mic.start();
      rtp.startSending(this.micQueue);
    } else if (mic) rtp.startSending(mic);
  }

  /**
   * Hands the earpiece and microphone over to the call's media thread, once
   * the last call's thread has let go of them: a hardware device is exclusive
   * (`hw`, `plughw`), and a thread that opens it too early gets EBUSY and
   * tries again only 2 s later — a preempting emergency call would start
   * silent. The wait is bounded (HANDOVER_WAIT_MS).
   */
  private async connectThreaded(
    callId: string,
    media: CallMediaThread,
    devices: { earpiece: string; microphone: string },
  ): Promise<void> {
    if (this.threaded === media) return;
    if (this.threaded) this.releaseThreaded(this.threaded); // its call was never disconnected
    this.threaded = media;
    this.threadedCall = callId;
    if (!this.reporting.has(media)) {
      this.reporting.add(media);
      media.on("device", (e) => this.log("error", e.message));
      media.on("reopened", (d) => this.log("info", `ALSA device "${d}" is back`));
      media.on("remote-error", (m) => this.log("error", `call media: ${m}`));
    }
    const mic = this.p.microphone;
    await Promise.all([
      this.p.earpiece?.close(),
      mic && "stop" in mic ? mic.stop() : undefined,
      this.devicesReleased(),
    ]);
    if (this.threaded !== media) return; // disconnected meanwhile
    await media.setDevices(devices.earpiece, devices.microphone);
    this.pumpOverlay(media);
  }

  /** Waits for `devicesFree`, at most HANDOVER_WAIT_MS; going ahead after that is logged. */
  private async devicesReleased(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<"late">((resolve) => {
      timer = setTimeout(() => resolve("late"), HANDOVER_WAIT_MS);
    });
    const started = monotonicMs();
    const outcome = await Promise.race([this.devicesFree.then(() => "free" as const), late]);
    clearTimeout(timer);
    if (outcome === "late")
      this.log(
        "warn",
        `call media: the last call's thread still has the earpiece and microphone after ${HANDOVER_WAIT_MS} ms; opening them anyway`,
      );
    else
      this.log(
        "debug",
        `call media: devices free after ${(monotonicMs() - started).toFixed(1)} ms`,
      );
  }

  /** The thread lets go of the devices; `devicesFree` settles when it has closed them. */
  private releaseThreaded(media: CallMediaThread): void {
    this.threaded = undefined;
    this.threadedCall = undefined;
    media.clearOverlay();
    this.devicesFree = media.setDevices(undefined, undefined);
  }

  /**
   * Tones and cues during a threaded call: mixed into the thread's earpiece
   * about 120 ms ahead, topped up every 60 ms while any plays.
   */
  private pumpOverlay(media: CallMediaThread): void {
    if (this.overlayPump || (!this.earMix.has("tone") && !this.earMix.has("cue"))) return;
    const rate = this.earRate();
    const frame = new Int16Array((rate / 1000) * 20);
    const start = monotonicMs();
    let pushed = 0;
    const fill = () => {
      if (this.threaded !== media || (!this.earMix.has("tone") && !this.earMix.has("cue"))) {
        clearInterval(this.overlayPump);
        this.overlayPump = undefined;
        return;
      }
      for (const due = Math.floor((monotonicMs() - start) / 20) + 6; pushed < due; pushed++) {
        this.earMix.read(frame);
        media.overlay(rate === 8000 ? frame : downsample(frame, rate, 8000));
      }
    };
    this.overlayPump = setInterval(fill, 60);
    fill();
  }

  private disconnectAudio(callId: string): void {
    if (this.audioCall !== callId) return;
    this.audioCall = undefined;
    this.earMix.set("call", undefined);
    const media = this.p.agent.media(callId);
    if (media instanceof RtpSession) media.stopSending();
    // A call ended by BYE is gone from the agent already; its thread is still ours to release.
    const threaded =
      this.threadedCall === callId || this.threaded === media ? this.threaded : undefined;
    if (threaded) {
      this.releaseThreaded(threaded);
      if (this.earMix.has("tone") || this.earMix.has("cue")) this.earpieceOn();
      return;
    }
    const mic = this.p.microphone;
    if (mic && "stop" in mic) void mic.stop();
    this.earpieceIdle();
  }
}
