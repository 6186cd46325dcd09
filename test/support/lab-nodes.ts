/**
 * Two lab exchange nodes (server/kamailio/lab-exchange.ts with the `dmq`
 * option) on two loopback addresses, 127.0.0.1 and 127.0.0.2, sharing one
 * database: each names the other as its DMQ peer. Two addresses, not two ports
 * of one, because a node recognises itself in a Path by host
 * (registrar path_check_local): on one address each node would take the other's
 * Path for its own.
 */
import { randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";
import {
  freePort,
  type LabExchange,
  type LabExchangeOptions,
  startLabExchange,
} from "../../server/kamailio/lab-exchange.ts";

export interface LabNodes {
  readonly nodes: readonly [LabExchange, LabExchange];
  /**
   * Resolves once `user`'s registration is usable on node `on`: an OPTIONS to
   * the user sent there is relayed to the phone (any answer but 480).
   */
  replicated(user: string, on: 0 | 1, timeoutMs?: number): Promise<void>;
  /** Both nodes' logs, for a failure message. */
  logs(): string;
  stop(): Promise<void>;
}

const HOSTS = ["127.0.0.1", "127.0.0.2"] as const;

export async function startLabNodes(
  opts: Omit<LabExchangeOptions, "host" | "udpPort" | "dmq"> = {},
): Promise<LabNodes> {
  const ports = [await freePort("udp", HOSTS[0]), await freePort("udp", HOSTS[1])];
  const started: LabExchange[] = [];
  try {
    for (const i of [0, 1]) {
      const other = 1 - i;
      started.push(
        await startLabExchange({
          ...opts,
          host: HOSTS[i],
          udpPort: ports[i],
          dmq: {
            peer: `sip:${HOSTS[other]}:${ports[other]}`,
            nodes: `${HOSTS[0]}:${ports[0]},${HOSTS[1]}:${ports[1]}`,
          },
        }),
      );
    }
  } catch (e) {
    await Promise.all(started.map((n) => n.stop()));
    throw e;
  }
  const nodes = started as unknown as [LabExchange, LabExchange];
  return {
    nodes,
    logs: () => nodes.map((n, i) => `--- node ${i + 1} (${n.host})\n${n.log()}`).join("\n"),
    stop: async () => {
      await Promise.all(nodes.map((n) => n.stop()));
    },
    async replicated(user, on, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const code = await optionsTo(nodes[on], user);
        if (code !== undefined && code !== 480) return;
        if (Date.now() > deadline) {
          throw new Error(
            `${user} not reachable on node ${on + 1} after ${timeoutMs} ms (last answer ${code})`,
          );
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    },
  };
}

/** One OPTIONS to sip:user@node (RFC 3261 §11) over UDP: its final status, if any in 2 s. */
function optionsTo(ex: LabExchange, user: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket("udp4");
    const callId = `replicated-${randomBytes(6).toString("hex")}`;
    const done = (code: number | undefined) => {
      clearTimeout(timer);
      sock.close();
      resolve(code);
    };
    const timer = setTimeout(() => done(undefined), 2000);
    sock.on("message", (buf) => {
      const m = buf.toString("latin1");
      const code = Number(/^SIP\/2\.0 (\d{3})/.exec(m)?.[1] ?? 0);
      if (code >= 200 && m.includes(callId)) done(code);
    });
    sock.bind(0, "127.0.0.1", () => {
      const { port } = sock.address();
      const text =
        `OPTIONS sip:${user}@${ex.domain} SIP/2.0\r\n` +
        `Via: SIP/2.0/UDP 127.0.0.1:${port};rport;branch=z9hG4bK-${callId}\r\n` +
        `From: <sip:probe@127.0.0.1>;tag=${callId}\r\nTo: <sip:${user}@${ex.domain}>\r\n` +
        `Call-ID: ${callId}\r\nCSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n`;
      sock.send(text, ex.udpPort, ex.host);
    });
  });
}
