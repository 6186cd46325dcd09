/**
 * The running phone: the composition of its parts, in the order an event
 * travels through them —
 *
 *   sip-events.ts (the SIP agent's reports) and the handset (hook, keypad)
 *     → the controller (firmware/controller: state, event → state, effects)
 *     → effect-runner.ts (SIP verbs, ringer, LEDs, timers, journal)
 *     → call-audio.ts (earpiece tones, a call's audio: media-thread-handover.ts,
 *       tone-overlay.ts, js-call-audio.ts).
 *
 * An incoming INVITE: PhoneAgent "incoming" → listenToAgent classifies it →
 * dispatch → transition → the "ringer" effect → the ringer plays the cadence.
 */
import { EventEmitter } from "node:events";
import type { AlsaNativePlayback } from "../../audio/alsa-native.ts";
import type { AlsaPlayback } from "../../audio/alsa-playback.ts";
import type { HookSwitch, Keypad } from "../../hal/contracts.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { type AlertConfig, DEFAULT_ALERT_CONFIG } from "../alerting/alert-class.ts";
import { callProgressTones } from "../alerting/cadences.ts";
import type { Effect } from "../controller/effects.ts";
import type { Key, PhoneEvent } from "../controller/events.ts";
import { boot, transition } from "../controller/reduce.ts";
import {
  type ControllerConfig,
  DEFAULT_CONTROLLER_CONFIG,
  initialState,
  type MissedEmergency,
  type PhoneState,
} from "../controller/state.ts";
import { CallAudio } from "./call-audio.ts";
import { EffectRunner, type JournalSink, type LedOutput } from "./effect-runner.ts";
import { HandOverReport } from "./handover-report.ts";
import { frameRecord } from "./journal-lines.ts";
import type { Microphone } from "./js-call-audio.ts";
import type { Log } from "./log.ts";
import type { CallDevices } from "./media-thread-handover.ts";
import { MemorySettle, type MemorySettleOptions } from "./memory-settle.ts";
import { monotonicMs } from "./monotonic.ts";
import { listenToAgent } from "./sip-events.ts";

export type { JournalSink, LedOutput };

export interface PhoneParts {
  agent: PhoneAgent;
  alertConfig?: AlertConfig;
  controller?: Partial<ControllerConfig>;
  ringer?: AlsaPlayback | AlsaNativePlayback;
  earpiece?: AlsaPlayback;
  /** The handset microphone: an ALSA capture device, or any source (tests, bench). */
  microphone?: Microphone;
  /**
   * The ALSA names of the earpiece and microphone, for call media that runs
   * on its own thread (CallMediaThread): during a call the thread owns both
   * devices, and tones and cues are mixed in over the call.
   */
  callDevices?: CallDevices;
  /** The user's ringer volume, dB (an alert class with ringLevel "full" ignores it). */
  ringerVolumeDb?: number;
  leds?: LedOutput;
  /** The handset: hook switch and keypad from the HAL (or the bench's mock). */
  hook?: HookSwitch;
  keypad?: Keypad;
  journal?: JournalSink;
  restored?: { missed?: readonly MissedEmergency[]; dnd?: boolean };
  log?: Log;
  /** Memory handed back when idle and quiet after a burst (memory-settle.ts); defaults otherwise. */
  memorySettle?: MemorySettleOptions;
}

export class Phone extends EventEmitter<{ effects: [PhoneEvent, Effect[]]; state: [PhoneState] }> {
  private s: PhoneState;
  private readonly audio: CallAudio;
  private readonly effects: EffectRunner;
  private readonly handOver: HandOverReport;
  private settle: MemorySettle | undefined;

  constructor(private readonly p: PhoneParts) {
    super();
    const alertConfig = p.alertConfig ?? DEFAULT_ALERT_CONFIG;
    const log = p.log ?? (() => {});
    this.s = initialState(
      {
        ...DEFAULT_CONTROLLER_CONFIG,
        tones: callProgressTones(alertConfig.country),
        ...p.controller,
      },
      p.restored,
    );
    this.audio = new CallAudio({
      agent: p.agent,
      ...(p.earpiece && { earpiece: p.earpiece }),
      ...(p.microphone && { microphone: p.microphone }),
      ...(p.callDevices && { callDevices: p.callDevices }),
      log,
    });
    this.effects = new EffectRunner({ ...p, audio: this.audio, log }, (ev) => this.dispatch(ev));
    this.handOver = new HandOverReport(p.agent, log, (m) => this.audio.devicesReleasedFor(m));
    listenToAgent(p.agent, {
      alertConfig,
      dispatch: (ev) => this.dispatch(ev),
      media: (callId) => this.audio.mediaReady(callId),
      log,
      warm: (ev) => this.decideOnly(ev),
    });
    const mic = p.microphone;
    if (mic && "on" in mic) mic.on("error", (e) => log("error", e.message));
    for (const dev of [p.ringer, p.earpiece]) dev?.on("error", (e) => log("error", e.message));
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
    this.effects.run(fx);
    this.p.agent.start();
    this.settle = new MemorySettle(
      { phone: this, agent: this.p.agent },
      { ...(this.p.log && { log: this.p.log }), ...this.p.memorySettle },
    );
  }

  async stop(): Promise<void> {
    this.settle?.stop();
    this.effects.stop();
    this.handOver.stop();
    this.audio.stop();
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

  /**
   * The controller's decision on an event, and the journal lines it would
   * write, made and dropped: the warm-up's made-up calls (sip/warm-up.ts) run
   * the code a real call runs, and the phone's state, effects and journal stay
   * as they were (test/sip/warm-up.test.ts).
   */
  private decideOnly(ev: PhoneEvent): void {
    const [, fx] = transition(this.s, ev);
    for (const e of fx)
      if (e.type === "journal") frameRecord({ time: new Date().toISOString(), ...e.record });
  }

  /** One event through the controller; its effects carried out, then reported. */
  dispatch(ev: PhoneEvent): void {
    const [s, fx] = transition(this.s, ev);
    this.s = s;
    this.handOver.saw(ev, fx); // before the effects: the preempted call is still the agent's
    this.effects.run(fx);
    this.emit("effects", ev, fx);
    this.emit("state", s);
  }
}
