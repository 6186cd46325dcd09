/**
 * The production shape for end-to-end tests (issue 11): a lab Kamailio named
 * by host name over wss:// (a test CA whose certificate names only
 * DNS:localhost) with digest auth on; phones built by the firmware's own
 * composition (buildPhone) with the journal on disk and the native call-media
 * thread on ALSA devices exclusive like hardware; callers that are our SIP
 * agents over the same exchange. One firmware phone at a time owns the
 * exclusive earpiece and microphone, as on a desk phone.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BuiltPhone, buildPhone } from "../../firmware/app/build-phone.ts";
import { validateConfig } from "../../firmware/app/config.ts";
import type { StoredRecord } from "../../firmware/app/journal.ts";
import { MockHandset } from "../../hal/mock.ts";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent, type PhoneAgentOptions } from "../../sip/phone-agent.ts";
import { type AlsaLab, alsaLab } from "./alsa-lab.ts";
import { EXCLUSIVE_AUDIO } from "./phone-config.ts";
import { createTestCa, type TestCa } from "./test-ca.ts";
import { type WaitForState, waitForState } from "./wait-for-state.ts";

export interface FirmwarePhone {
  built: BuiltPhone;
  handset: MockHandset;
  logs: string[];
  journalPath: string;
  /** The journal as the storage holds it (after `built.journal.synced()`). */
  onDisk(): StoredRecord[];
  waitFor: WaitForState;
}

export interface ProductionRig {
  ex: LabExchange;
  ca: TestCa;
  lab: AlsaLab;
  /** A phone as `deskphone run` builds it, from a config document (sections merged in). */
  firmwarePhone(
    user: string,
    o?: { exchange?: Record<string, unknown>; audio?: Record<string, unknown> },
  ): Promise<FirmwarePhone>;
  /** A caller: one of our agents, with its password, over wss://localhost. */
  caller(user: string, o?: Partial<PhoneAgentOptions>): Promise<PhoneAgent>;
  stop(): Promise<void>;
}

export async function startProductionRig(
  o: { exclusiveCloseMs?: number } = {},
): Promise<ProductionRig> {
  const ca = createTestCa();
  const ex = await startLabExchange({ tls: { cert: ca.cert, key: ca.key }, auth: true });
  const lab = alsaLab({
    exclusive: true,
    ...(o.exclusiveCloseMs !== undefined && { exclusiveCloseMs: o.exclusiveCloseMs }),
  });
  // The media thread opens ALSA in this process: the lab's config must be the process's.
  process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
  const dir = mkdtempSync(join(tmpdir(), "deskphone-prod-"));
  const stops: (() => Promise<void>)[] = [];
  let lastPhone: BuiltPhone | undefined;

  const firmwarePhone: ProductionRig["firmwarePhone"] = async (user, p = {}) => {
    ex.table.setSubscriber(user, `pw-${user}`);
    // The last phone (its tone player may still hold the exclusive earpiece) stops first.
    await lastPhone?.stop();
    const journalPath = join(dir, `${user}.jsonl`);
    const c = validateConfig({
      account: { user, password: `pw-${user}` },
      exchange: { url: ex.wssUrl("localhost"), caFile: ca.caFile, ...p.exchange },
      audio: { ...EXCLUSIVE_AUDIO, ...p.audio },
      journal: { path: journalPath },
    });
    if (!c.ok) throw new Error(JSON.stringify(c.errors));
    const logs: string[] = [...c.warnings.map((w) => `config ${w}`)];
    const handset = new MockHandset();
    const built = buildPhone(c.config, handset, {
      log: (level, m) => logs.push(`${level} ${m}`),
      env: lab.env,
    });
    stops.push(() => (lastPhone === built ? built.stop() : Promise.resolve()));
    lastPhone = built;
    const waitFor = waitForState(built.phone, user, logs);
    built.phone.start();
    await waitFor("registered", (s) => s.registered);
    const onDisk = () =>
      readFileSync(journalPath, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => JSON.parse(l) as StoredRecord);
    return { built, handset, logs, journalPath, onDisk, waitFor };
  };

  const caller: ProductionRig["caller"] = async (user, p = {}) => {
    ex.table.setSubscriber(user, `pw-${user}`);
    const a = new PhoneAgent({
      server: ex.wssUrl("localhost"),
      user,
      password: `pw-${user}`,
      tls: { caFile: ca.caFile, rejectUnauthorized: true },
      ...p,
    });
    stops.push(() => a.stop());
    await new Promise<void>((resolve) => {
      a.on("registration", (s) => s === "registered" && resolve());
      a.start();
    });
    return a;
  };

  return {
    ex,
    ca,
    lab,
    firmwarePhone,
    caller,
    async stop() {
      for (const stop of stops.reverse()) await stop().catch(() => {});
      await ex.stop();
      lab.cleanup();
      ca.cleanup();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
