/**
 * Builds a running phone from its configuration and a handset (HAL backend or
 * mock): wiring only — which backend for each part, and the parts handed to
 * `Phone` (phone.ts), which composes them.
 */
import { AlsaCapture } from "../../audio/alsa-capture.ts";
import { AlsaNativePlayback, nativePcm } from "../../audio/alsa-native.ts";
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { CallMediaThread, nativeCallMedia } from "../../audio/call-media-thread.ts";
import type { FrameSource } from "../../audio/frame-source.ts";
import type { HookSwitch, Keypad, Leds } from "../../hal/contracts.ts";
import { PhoneAgent, type PhoneAgentOptions } from "../../sip/phone-agent.ts";
import type { JournalRecord } from "../controller/effects.ts";
import type { PhoneConfig } from "./config.ts";
import { Journal, missedEmergencies } from "./journal.ts";
import { closeOpenCalls } from "./journal-restart.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";
import { Phone } from "./phone.ts";

export interface Handset {
  hook: HookSwitch;
  keypad: Keypad;
  leds: Leds;
}

export type { Log };

export interface BuiltPhone {
  phone: Phone;
  agent: PhoneAgent;
  journal: Journal;
  stop(): Promise<void>;
}

export function buildPhone(
  c: PhoneConfig,
  handset: Handset,
  o: {
    log: Log;
    env?: NodeJS.ProcessEnv;
    microphone?: FrameSource;
    /** A handset part could not be read (handset-config.ts): the status LED shows it. */
    degraded?: boolean;
    /** Sees every SIP message on the wire with its monotonic time (bench/invite-to-180.ts). */
    wireTap?: PhoneAgentOptions["wireTap"];
  } = { log: () => {} },
): BuiltPhone {
  // Records are written ahead and fsync'd off the event loop (docs/configuration.md).
  const journal = new Journal(c.journal.path, {
    maxBytes: c.journal.maxBytes,
    log: (l, m) => o.log(l, m),
  });
  // Calls the last run left open (SIGKILL, power cut) are closed before the
  // phone takes one: `ended`, or `missed` if never taken (journal-restart.ts).
  const append = (r: JournalRecord) => {
    try {
      journal.append(r);
    } catch (e) {
      o.log("error", `journal: cannot write ${c.journal.path}: ${(e as Error).message}`);
    }
  };
  for (const r of closeOpenCalls(journal.records, monotonicMs())) {
    o.log("warn", `journal: call ${r.callId} was left open by the last run: ${r.event} (restart)`);
    append(r);
  }
  // Call media on a native thread (docs/audio.md): unless a microphone source is
  // injected (tests, bench), or the native part is missing.
  const threaded = c.audio.callMediaThread && !o.microphone && nativeCallMedia() !== undefined;
  if (c.audio.callMediaThread && !o.microphone && !threaded) {
    o.log("warn", "native/call-media is not built: call audio goes through aplay/arecord");
  }
  const agent = new PhoneAgent({
    server: c.exchange.url,
    user: c.account.user,
    ...(c.account.password !== undefined && { password: c.account.password }),
    ...(c.account.displayName && { displayName: c.account.displayName }),
    tls: {
      ...(c.exchange.caFile && { caFile: c.exchange.caFile }),
      rejectUnauthorized: c.exchange.rejectUnauthorized,
    },
    registerExpires: c.exchange.registerExpires,
    media: {
      ...(threaded && { openMedia: (m) => CallMediaThread.open(m) }),
      portRange: c.audio.rtpPorts,
      inactivityMs: c.audio.mediaTimeoutS * 1000,
      ...(c.audio.mediaAddress && { address: c.audio.mediaAddress }),
    },
    log: o.log,
    ...(o.wireTap && { wireTap: o.wireTap }),
  });
  const env = o.env ?? process.env;
  // The ringer is opened in-process and kept open, so "ring now" starts within a
  // period (docs/benchmarks.md); without native/alsa-pcm it falls back to aplay.
  const native = c.audio.nativeRinger ? nativePcm() : undefined;
  if (c.audio.nativeRinger && !native) {
    o.log("warn", "native/alsa-pcm is not built: the ringer plays through aplay (slower to start)");
  }
  const ringer = native
    ? new AlsaNativePlayback({
        device: c.audio.ringer.device,
        rate: c.audio.ringer.rate,
        frameMs: 20,
        queueFrames: 2,
        idleCloseMs: Number.POSITIVE_INFINITY,
      })
    : new AlsaPlayback({
        device: c.audio.ringer.device,
        rate: c.audio.ringer.rate,
        env,
        idleCloseMs: 1000,
      });
  const earpiece = new AlsaPlayback({
    device: c.audio.earpiece.device,
    rate: c.audio.earpiece.rate,
    env,
  });
  const microphone =
    o.microphone ??
    new AlsaCapture({ device: c.audio.microphone.device, rate: c.audio.microphone.rate, env });
  const phone = new Phone({
    agent,
    alertConfig: c.alerting,
    controller: { interDigitMs: c.phone.interDigitMs, ...(o.degraded && { degraded: true }) },
    ringer,
    earpiece,
    microphone,
    ...(threaded && {
      callDevices: { earpiece: c.audio.earpiece.device, microphone: c.audio.microphone.device },
    }),
    ringerVolumeDb: c.audio.ringerVolumeDb,
    leds: handset.leds,
    hook: handset.hook,
    keypad: handset.keypad,
    journal: { append },
    restored: { missed: missedEmergencies(journal.records), dnd: c.phone.dnd },
    log: o.log,
  });
  return {
    phone,
    agent,
    journal,
    async stop() {
      await phone.stop();
      await Promise.all([handset.hook.close(), handset.keypad.close(), handset.leds.close()]);
      await journal.close(); // fsync errors are logged by the journal
    },
  };
}
