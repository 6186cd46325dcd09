/**
 * Callers who type what they like: an injection corpus dialled through a real
 * lab exchange at phones (PhoneAgent over ws://) bound to emergency numbers,
 * one of them disabled. Nothing but a valid, enabled emergency number may
 * reach a phone carrying the exchange's marks (Alert-Info, RFC 3261 §20.4;
 * Priority, §20.26), and no mark a caller forges in a re-INVITE gets through.
 * What the phone sees is read off its wire (every INVITE it received).
 *
 * One suite, run once per database the exchange reads the table from
 * (exchange-injection.test.ts: SQLite; exchange-injection-postgres.test.ts:
 * PostgreSQL through db_postgres): the query text Kamailio builds is the same.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_EMERGENCY_ALERT_INFO } from "../../server/emergency-table.ts";
import {
  KAMAILIO_CFG,
  type LabExchange,
  startLabExchange,
} from "../../server/kamailio/lab-exchange.ts";
import type { IncomingCall, PhoneAgent } from "../../sip/phone-agent.ts";
import { header, RawSipCaller } from "./raw-sip-caller.ts";
import { ackReached, recordingAgent } from "./recording-agent.ts";

/** Each entry is written into the Request-URI's user part byte for byte. */
const CORPUS = [
  // The one that worked: a quote closes the string, OR 1=1 matches every row,
  // the comment drops "AND enabled=1" (disabled numbers included).
  "x'/**/OR/**/1=1/**/--",
  "x\\'/**/OR/**/1=1/**/--",
  "112'/**/OR/**/'1'='1",
  "112'--",
  "112'",
  "'112'",
  "112%27",
  "112%22",
  "112/**/",
  "112--",
  "112;--",
  "x'/**/UNION/**/SELECT/**/alert_info/**/FROM/**/emergency_number/**/--",
  "x'/**/UNION/**/SELECT/**/number/**/FROM/**/emergency_number/**/WHERE/**/enabled=0/**/--",
  "x'/**/OR/**/number=(SELECT/**/number/**/FROM/**/emergency_number/**/LIMIT/**/1)/**/--",
  "112\\",
  "112\\'",
  "112%5C",
  "112%5C%27/**/OR/**/1=1/**/--",
  "112%0D%0AAlert-Info:%20emergency",
  "112%0AAlert-Info:%20emergency",
  "112%0D%0APriority:%20emergency",
  "112%00",
  "112%00'/**/OR/**/1=1/**/--",
  "%31%31%32",
  "1".repeat(33),
  "112".repeat(11),
  "+".repeat(33),
  "%23".repeat(33),
  "+112",
  "*112",
  "112%23",
  "%23112",
  "++",
  // The disabled number, plain and with every trick to wake it.
  "115",
  "115'/**/OR/**/enabled=0/**/--",
  "115'/**/--",
];

/** Where the exchange keeps its table, and a way around the admin command into it. */
export interface SuiteDatabase {
  name: string;
  /** The lab exchange's `db` option (undefined: its own SQLite file). */
  start(): Promise<string | undefined>;
  /** Runs SQL straight on the table, as a hand edit would (values the API refuses). */
  rawSql(ex: LabExchange, sql: { sqlite: string; postgres: string }): Promise<void>;
  stop(): Promise<void>;
}

export function injectionSuite(db: SuiteDatabase): void {
  let ex: LabExchange;
  let caller: RawSipCaller;
  const phones = new Map<string, PhoneAgent>();
  /** Every INVITE each phone received, as it arrived on its WebSocket. */
  const invites = new Map<string, string[]>();
  const incoming = new Map<string, IncomingCall[]>();
  /** Every ACK each phone received. */
  const acks = new Map<string, string[]>();

  async function registered(a: PhoneAgent): Promise<void> {
    if (a.registrationState === "registered") return;
    await new Promise<void>((resolve, reject) => {
      a.on("registration", (s, why) => {
        if (s === "registered") resolve();
        else if (s === "unregistered") reject(new Error(why));
      });
    });
  }

  /** A phone that records what reaches it; `answer` ones pick up, the rest say 486. */
  async function phone(user: string, answer = false): Promise<PhoneAgent> {
    const a = recordingAgent(ex.wsUrl, user, answer, { invites, incoming, acks });
    phones.set(user, a);
    a.start();
    await registered(a);
    return a;
  }

  const marked = (m: string) =>
    header(m, "Alert-Info").length > 0 ||
    header(m, "Priority").length > 0 ||
    header(m, "Resource-Priority").length > 0;

  function clear(): void {
    for (const list of [...invites.values(), ...incoming.values(), ...acks.values()]) {
      list.length = 0;
    }
  }

  beforeAll(async () => {
    // DESKPHONE_EXCHANGE_CFG points a run at another cfg (e.g. an old one, to see
    // this test fail on it).
    const url = await db.start();
    ex = await startLabExchange({
      cfg: process.env.DESKPHONE_EXCHANGE_CFG ?? KAMAILIO_CFG,
      ...(url !== undefined && { db: url }),
    });
    ex.table.bind("112", "2401");
    ex.table.bind("112", "2402");
    ex.table.bind("115", "2403");
    ex.table.setNumber("115", { enabled: false });
    ex.table.bind("*99#", "2404");
    await Promise.all(["2401", "2402", "2403", "2404"].map((u) => phone(u)));
    await phone("2405", true);
    caller = await RawSipCaller.open(ex);
  });
  afterAll(async () => {
    caller?.close();
    await Promise.all([...phones.values()].map((p) => p.stop()));
    await ex?.stop();
    await db.stop();
  });

  describe(`injection corpus through the exchange (real Kamailio, ${db.name}, PhoneAgent phones)`, () => {
    it("no entry of the corpus reaches any phone marked as an emergency", async () => {
      const reached: string[] = [];
      const answers: string[] = [];
      for (const entry of CORPUS) {
        clear();
        const { answer } = await caller.invite(entry, { timeoutMs: 1000 });
        answers.push(`${entry} → ${answer?.code ?? "dropped"}`);
        for (const [user, list] of invites) {
          for (const m of list.filter(marked)) {
            reached.push(`${entry} → ${user}: ${header(m, "Alert-Info")} ${header(m, "Priority")}`);
          }
        }
        for (const [user, list] of incoming) {
          for (const c of list.filter((c) => c.alertInfo.length > 0 || c.priority)) {
            reached.push(`${entry} → ${user} (incoming): ${c.alertInfo} ${c.priority}`);
          }
        }
      }
      expect(reached, answers.join("\n")).toEqual([]);
      // Every entry was looked at and refused as an ordinary call to nobody (or dropped
      // as malformed); none was connected.
      expect(answers.filter((a) => / → [2]\d\d$/.test(a))).toEqual([]);
      expect(ex.log()).toMatch(
        /is not an emergency number \(1-32 of 0-9 \* # \+\): routed as an ordinary call/,
      );
    }, 120_000);

    it("the valid, enabled numbers still reach their phones marked", async () => {
      clear();
      const { answer } = await caller.invite("112");
      expect(answer?.code).toBe(486);
      for (const user of ["2401", "2402"]) {
        const calls = incoming.get(user) ?? [];
        expect(calls, user).toHaveLength(1);
        expect(calls[0]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
        expect(calls[0]?.priority).toBe("emergency");
      }
      expect(incoming.get("2403")).toEqual([]);
      expect(incoming.get("2404")).toEqual([]);

      // '#' travels escaped in a SIP URI (RFC 3261 §25.1): *99%23 is *99#.
      clear();
      expect((await caller.invite("*99%23")).answer?.code).toBe(486);
      expect(incoming.get("2404")?.[0]?.alertInfo).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
      expect(incoming.get("2401")).toEqual([]);
    }, 30_000);

    it("a stored Alert-Info that is not one printable line is replaced by the default on use", async () => {
      // Written around the admin command (which refuses it), as a hand-edited database would be.
      ex.table.setNumber("116");
      ex.table.bind("116", "2401");
      await db.rawSql(ex, {
        sqlite:
          "UPDATE emergency_number SET alert_info = 'ring' || char(13,10) || 'X-Evil: 1' WHERE number = '116';",
        postgres:
          "UPDATE emergency_number SET alert_info = 'ring' || chr(13) || chr(10) || 'X-Evil: 1' WHERE number = '116';",
      });
      clear();
      expect((await caller.invite("116")).answer?.code).toBe(486);
      const m = invites.get("2401")?.[0] ?? "";
      expect(header(m, "Alert-Info")).toEqual([DEFAULT_EMERGENCY_ALERT_INFO]);
      expect(header(m, "X-Evil")).toEqual([]);
      expect(header(m, "Priority")).toEqual(["emergency"]);
      expect(ex.log()).toMatch(/emergency number 116: stored Alert-Info is not one printable line/);

      const long = `UPDATE emergency_number SET alert_info = '<http://x.invalid/${"a".repeat(300)}>' WHERE number = '116';`;
      await db.rawSql(ex, { sqlite: long, postgres: long });
      clear();
      expect((await caller.invite("116")).answer?.code).toBe(486);
      expect(header(invites.get("2401")?.[0] ?? "", "Alert-Info")).toEqual([
        DEFAULT_EMERGENCY_ALERT_INFO,
      ]);
    }, 30_000);

    it("a forged Alert-Info, Priority or Resource-Priority in a re-INVITE is stripped", async () => {
      clear();
      const { answer, dialog } = await caller.invite("2405");
      expect(answer?.code).toBe(200);
      if (!dialog) throw new Error("no dialog");
      // Wait until the ACK reached the phone: a re-INVITE that overtakes it (the exchange's
      // workers relay in parallel) gets 500 + Retry-After (RFC 3261 §14.2).
      await ackReached({ invites, incoming, acks }, "2405", dialog.callId);
      const re = await caller.reInvite(dialog, [
        "Alert-Info: <http://deskphone.invalid/alert/emergency>;info=alert-emergency",
        "Priority: emergency",
        "Resource-Priority: dsn.flash-override",
      ]);
      expect(re?.code, re?.message).toBe(200);
      const received = invites.get("2405") ?? [];
      expect(received).toHaveLength(2);
      expect(header(received[1] ?? "", "CSeq")).toEqual(["2 INVITE"]);
      expect(received.filter(marked)).toEqual([]);
      expect((await caller.bye(dialog))?.code).toBe(200);
    }, 30_000);
  });
}
