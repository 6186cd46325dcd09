/**
 * The effect runner: carries out each effect the controller returns
 * (firmware/controller/effects.ts) on the part that does it — the SIP agent,
 * the ringer, call audio, the LEDs, timers, the journal. What comes back
 * (an answer's outcome, a timer firing) is dispatched as a new event.
 */
import type { AlsaNativePlayback } from "../../audio/alsa-native.ts";
import type { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import type { LedName, LedPattern } from "../alerting/led-pattern.ts";
import type { Effect, JournalRecord } from "../controller/effects.ts";
import type { PhoneEvent } from "../controller/events.ts";
import type { CallAudio } from "./call-audio.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";

export interface LedOutput {
  set(name: LedName, pattern: LedPattern): void;
}

export interface JournalSink {
  append(record: JournalRecord): void;
}

export interface EffectTargets {
  agent: PhoneAgent;
  ringer?: AlsaPlayback | AlsaNativePlayback;
  /** The user's ringer volume, dB (an alert class with ringLevel "full" ignores it). */
  ringerVolumeDb?: number;
  audio: CallAudio;
  leds?: LedOutput;
  journal?: JournalSink;
  log: Log;
}

export class EffectRunner {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly t: EffectTargets,
    private readonly dispatch: (ev: PhoneEvent) => void,
  ) {}

  run(fx: Effect[]): void {
    for (const e of fx) {
      try {
        this.carryOut(e);
      } catch (err) {
        // One failing part never stops the others (the ring still flashes the LEDs).
        this.t.log("error", `${e.type} failed: ${(err as Error).message}`);
      }
    }
  }

  /** No timer fires after the phone stopped. */
  stop(): void {
    for (const t of this.timers.values()) clearTimeout(t);
  }

  private carryOut(e: Effect): void {
    const { agent: a, audio } = this.t;
    switch (e.type) {
      case "send-ringing":
        return a.ringing(e.callId);
      case "reject":
        return a.reject(e.callId, e.code, e.reason);
      case "answer":
        return this.answer(e.callId);
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
        const r = this.t.ringer;
        const gainDb = e.level === "full" ? 0 : (this.t.ringerVolumeDb ?? -6);
        return r?.play(new ToneSource(e.cadence, { rate: r.rate, gainDb }));
      }
      case "ringer-off":
        return this.t.ringer?.stop();
      case "tone":
        return audio.tone(e.cadence);
      case "tone-off":
        return audio.toneOff();
      case "cue":
        return audio.cue(e.cadence);
      case "audio-connect":
        return audio.connect(e.callId);
      case "audio-disconnect":
        return audio.disconnect(e.callId);
      case "led":
        return this.t.leds?.set(e.led, e.pattern);
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
        return this.t.journal?.append(e.record);
      case "ignored":
        return this.t.log("debug", `${e.event} ignored: ${e.reason}`);
    }
  }

  /** 200 OK; its outcome comes back as `answer-result`. */
  private answer(callId: string): void {
    this.t.agent.answer(callId).then(
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
  }
}
