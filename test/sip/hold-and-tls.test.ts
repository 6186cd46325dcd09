/** Hold and resume both ways (RFC 3264 §8.4), and wss:// with certificate checks. */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TransportState } from "sip.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebSocketServer } from "ws";
import { type LabExchange, startLabExchange } from "../../server/kamailio/lab-exchange.ts";
import { PhoneAgent } from "../../sip/phone-agent.ts";
import { WsTransport } from "../../sip/ws-transport.ts";

let ex: LabExchange;
beforeAll(async () => {
  ex = await startLabExchange();
});
afterAll(async () => {
  await ex?.stop();
});
/** Waits until `test` holds (polled), at most `ms`; the error says what was last seen. */
async function until<T>(what: string, value: () => T, test: (v: T) => boolean, ms = 5000) {
  const deadline = Date.now() + ms;
  while (!test(value())) {
    if (Date.now() > deadline)
      throw new Error(`not ${what} within ${ms} ms: ${JSON.stringify(value())}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const registered = (a: PhoneAgent) =>
  new Promise<void>((r) => a.on("registration", (s) => s === "registered" && r()));

describe("hold and resume", () => {
  it("each side can hold and resume; media directions follow the SDP", async () => {
    // What each side received: a re-INVITE is done when its ACK has reached the answerer.
    const heard = { a: [] as string[], b: [] as string[] };
    const tap = (who: "a" | "b") => (dir: "in" | "out", m: string) =>
      dir === "in" && heard[who].push(m.slice(0, m.indexOf(" ")));
    const a = new PhoneAgent({ server: ex.wsUrl, user: "2001", wireTap: tap("a") });
    const b = new PhoneAgent({ server: ex.wsUrl, user: "2002", wireTap: tap("b") });
    let inId = "";
    b.on("incoming", (c) => {
      inId = c.callId;
      void b.answer(c.callId);
    });
    const answered = new Promise<void>((r) => a.once("remote-answered", () => r()));
    // Both registered before A dials (a fixed 600 ms was not enough under load: 2002 unknown).
    const both = Promise.all([registered(a), registered(b)]);
    a.start();
    b.start();
    await both;
    a.dial("out-1", "2002");
    await answered;
    const count = (xs: string[], m: string) => xs.filter((x) => x === m).length;
    // Every INVITE either side took was ACKed to it: no transaction is still open.
    const acked = () =>
      (["a", "b"] as const).every((w) => count(heard[w], "INVITE") === count(heard[w], "ACK"));
    const dirs = () => [a.media("out-1")?.mediaDirection, b.media(inId)?.mediaDirection, acked()];
    // Each step's re-INVITE crosses the exchange: wait for the directions it sets and for
    // its ACK, not a time (the next re-INVITE must not meet an INVITE still open, §14.2).
    const expectDirs = (want: string[]) =>
      until(`directions ${want.join("/")}`, dirs, (d) => d.join() === [...want, true].join());
    await expectDirs(["sendrecv", "sendrecv"]);
    a.hold("out-1", true);
    await expectDirs(["sendonly", "recvonly"]);
    a.hold("out-1", false);
    await expectDirs(["sendrecv", "sendrecv"]);
    b.hold(inId, true);
    await expectDirs(["recvonly", "sendonly"]);
    b.hold(inId, false);
    await expectDirs(["sendrecv", "sendrecv"]);
    await a.stop();
    await b.stop();
  }, 20_000);
});

describe("wss://", () => {
  const dir = mkdtempSync(join(tmpdir(), "deskphone-tls-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("checks the exchange's certificate, and trusts a configured CA file", async () => {
    const key = join(dir, "key.pem");
    const cert = join(dir, "cert.pem");
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        key,
        "-out",
        cert,
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    const server = createServer({ key: readFileSync(key), cert: readFileSync(cert) });
    const wss = new WebSocketServer({ server, handleProtocols: () => "sip" });
    const got: string[] = [];
    wss.on("connection", (ws) => ws.on("message", (m) => got.push(String(m))));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as { port: number }).port;
    const logger = { log() {}, warn() {}, error() {} };

    const strict = new WsTransport(logger, { server: `wss://127.0.0.1:${port}` });
    await expect(strict.connect()).rejects.toThrow(/self[- ]signed|certificate/i);
    expect(strict.state).toBe(TransportState.Disconnected);

    const trusting = new WsTransport(logger, { server: `wss://127.0.0.1:${port}`, caFile: cert });
    await trusting.connect();
    expect(trusting.protocol).toBe("WSS");
    await trusting.send("OPTIONS sip:x SIP/2.0\r\n\r\n");
    await until(
      "the OPTIONS at the server",
      () => got,
      (g) => g.length > 0,
    );
    expect(got).toEqual(["OPTIONS sip:x SIP/2.0\r\n\r\n"]);
    await trusting.disconnect();
    wss.close();
    server.close();
    expect(() => new WsTransport(logger, { server: "http://x" })).toThrow(/ws:\/\/ or wss:\/\//);
  });
});
