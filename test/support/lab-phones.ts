/** sipp phones registered on a lab exchange, for exchange-side tests. */
import type { LabExchange } from "../../server/kamailio/lab-exchange.ts";
import { runSipp, type Sipp, startSipp } from "./sipp.ts";
import {
  answerScenario,
  type CallOptions,
  callScenario,
  registerScenario,
} from "./sipp-scenarios.ts";

/** Starts a sipp phone running `xml` and registers it as `user`. */
export async function registerPhone(
  ex: LabExchange,
  user: string,
  xml = answerScenario(),
): Promise<Sipp> {
  const target = `${ex.host}:${ex.udpPort}`;
  const phone = await startSipp({ xml, target });
  const reg = await runSipp({ xml: registerScenario({ user, contactPort: phone.port }), target });
  if (reg.code !== 0) {
    await phone.stop();
    throw new Error(`REGISTER of ${user} failed (sipp ${reg.code}): ${reg.errors}`);
  }
  return phone;
}

export function call(ex: LabExchange, o: CallOptions) {
  return runSipp({ xml: callScenario(o), target: `${ex.host}:${ex.udpPort}` });
}

export function header(message: string, name: string): string[] {
  const re = new RegExp(`^${name}\\s*:\\s*(.*)$`, "gim");
  return [...message.matchAll(re)].map((m) => (m[1] ?? "").trim());
}
