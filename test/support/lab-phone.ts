/**
 * One of our phones for end-to-end tests: the real Phone (controller, SIP
 * agent, ALSA devices) registered on a lab exchange, with a tone as its
 * microphone and its earpiece and ringer on project-local ALSA file devices.
 */
import { AlsaPlayback } from "../../audio/alsa-playback.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { ToneSource } from "../../audio/tone-source.ts";
import type { AlertConfig } from "../../firmware/alerting/alert-class.ts";
import type { LedName, LedPattern } from "../../firmware/alerting/led-pattern.ts";
import { Phone } from "../../firmware/app/phone.ts";
import type { Effect, JournalRecord } from "../../firmware/controller/effects.ts";
import type { PhoneEvent } from "../../firmware/controller/events.ts";
import type { LabExchange } from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent, type PhoneAgentOptions } from "../../sip/phone-agent.ts";
import type { AlsaLab } from "./alsa-lab.ts";
import { type WaitForState, waitForState } from "./wait-for-state.ts";

export interface LabPhone {
  phone: Phone;
  agent: PhoneAgent;
  journal: JournalRecord[];
  leds: Map<LedName, LedPattern>;
  effects: { event: PhoneEvent; effects: Effect[] }[];
  logs: string[];
  waitFor: WaitForState;
  stop(): Promise<void>;
}

export async function startLabPhone(
  ex: LabExchange,
  user: string,
  o: {
    lab?: AlsaLab;
    earpiece?: string;
    ringer?: string;
    micHz?: number;
    /** Call media on a native thread with this ALSA capture device as the microphone. */
    threadMicrophone?: string;
    alertConfig?: AlertConfig;
    agent?: Partial<PhoneAgentOptions>;
  } = {},
): Promise<LabPhone> {
  const logs: string[] = [];
  const log = (level: string, m: string) => logs.push(`${level} ${m}`);
  const threaded = o.threadMicrophone !== undefined && o.earpiece !== undefined;
  const agent = new PhoneAgent({
    server: ex.wsUrl,
    user,
    log,
    ...o.agent,
    ...(threaded && { media: { openMedia: (m) => CallMediaThread.open(m) } }),
  });
  const earpiece =
    o.lab && o.earpiece ? new AlsaPlayback({ device: o.earpiece, env: o.lab.env }) : undefined;
  const ringer =
    o.lab && o.ringer ? new AlsaPlayback({ device: o.ringer, env: o.lab.env }) : undefined;
  const journal: JournalRecord[] = [];
  const leds = new Map<LedName, LedPattern>();
  const phone = new Phone({
    agent,
    ...(o.alertConfig && { alertConfig: o.alertConfig }),
    ...(earpiece && { earpiece }),
    ...(ringer && { ringer }),
    ...(threaded
      ? {
          callDevices: {
            earpiece: o.earpiece as string,
            microphone: o.threadMicrophone as string,
          },
        }
      : {
          microphone: new ToneSource({
            segments: [{ ms: 1000, freqs: [o.micHz ?? 1000], levelDb: -10 }],
            repeat: true,
          }),
        }),
    journal: { append: (r) => journal.push(r) },
    leds: { set: (n, p) => leds.set(n, p) },
    log,
  });
  const effects: LabPhone["effects"] = [];
  phone.on("effects", (event, fx) => effects.push({ event, effects: fx }));
  const waitFor = waitForState(phone, user, logs);
  phone.start();
  await waitFor("registered", (s) => s.registered);
  return { phone, agent, journal, leds, effects, logs, waitFor, stop: () => phone.stop() };
}
