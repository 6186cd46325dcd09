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
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("hold and resume", () => {
  it("each side can hold and resume; media directions follow the SDP", async () => {
    const a = new PhoneAgent({ server: ex.wsUrl, user: "2001" });
    const b = new PhoneAgent({ server: ex.wsUrl, user: "2002" });
    let inId = "";
    b.on("incoming", (c) => {
      inId = c.callId;
      void b.answer(c.callId);
    });
    const answered = new Promise<void>((r) => a.once("remote-answered", () => r()));
    a.start();
    b.start();
    await sleep(600);
    a.dial("out-1", "2002");
    await answered;
    await sleep(200);
    const dirs = () => [a.media("out-1")?.mediaDirection, b.media(inId)?.mediaDirection];
    expect(dirs()).toEqual(["sendrecv", "sendrecv"]);
    a.hold("out-1", true);
    await sleep(400);
    expect(dirs()).toEqual(["sendonly", "recvonly"]);
    a.hold("out-1", false);
    await sleep(400);
    expect(dirs()).toEqual(["sendrecv", "sendrecv"]);
    b.hold(inId, true);
    await sleep(400);
    expect(dirs()).toEqual(["recvonly", "sendonly"]);
    b.hold(inId, false);
    await sleep(400);
    expect(dirs()).toEqual(["sendrecv", "sendrecv"]);
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
    await sleep(100);
    expect(got).toEqual(["OPTIONS sip:x SIP/2.0\r\n\r\n"]);
    await trusting.disconnect();
    wss.close();
    server.close();
    expect(() => new WsTransport(logger, { server: "http://x" })).toThrow(/ws:\/\/ or wss:\/\//);
  });
});
