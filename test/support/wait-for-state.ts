/** Waits until a running Phone's state passes a test, for end-to-end tests. */
import type { Phone } from "../../firmware/app/phone.ts";
import type { PhoneState } from "../../firmware/controller/state.ts";

export type WaitForState = (
  what: string,
  test: (s: PhoneState) => boolean,
  timeoutMs?: number,
) => Promise<PhoneState>;

/** `label` names the phone in the error; the error ends with the last lines of `logs`. */
export function waitForState(phone: Phone, label: string, logs: readonly string[]): WaitForState {
  return (what, test, timeoutMs = 10_000) =>
    new Promise((resolve, reject) => {
      if (test(phone.state)) return resolve(phone.state);
      const timer = setTimeout(() => {
        phone.off("state", check);
        const tail = logs.slice(-12).join("\n");
        reject(
          new Error(
            `${label}: not ${what} within ${timeoutMs} ms (phase ${phone.state.phase.kind}); log:\n${tail}`,
          ),
        );
      }, timeoutMs);
      const check = (s: PhoneState) => {
        if (!test(s)) return;
        clearTimeout(timer);
        phone.off("state", check);
        resolve(s);
      };
      phone.on("state", check);
    });
}
