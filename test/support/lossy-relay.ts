/**
 * A UDP relay between two media endpoints on loopback that loses and
 * reorders packets on the way from side A to side B, deterministically:
 * it drops the packets whose index `drop(i)` says, and holds back every
 * `reorderEvery`-th packet until the next one has gone.
 */
import { createSocket, type Socket } from "node:dgram";

export interface LossyRelay {
  /** Where side A sends (RTP; RTCP is +1). */
  portForA: number;
  /** Where side B sends. */
  portForB: number;
  stats: { forwarded: number; dropped: number; reordered: number };
  close(): void;
}

function socket(): Promise<Socket> {
  return new Promise((resolve) => {
    const s = createSocket("udp4");
    s.bind(0, "127.0.0.1", () => resolve(s));
  });
}

export async function lossyRelay(
  a: { port: number },
  b: { port: number },
  o: { drop: (i: number) => boolean; reorderEvery?: number },
): Promise<LossyRelay> {
  const facingA = await socket();
  const facingB = await socket();
  const stats = { forwarded: 0, dropped: 0, reordered: 0 };
  let i = 0;
  let held: Buffer | undefined;
  facingA.on("message", (msg) => {
    i++;
    if (o.drop(i)) {
      stats.dropped++;
      return;
    }
    if (o.reorderEvery && i % o.reorderEvery === 0 && !held) {
      held = msg;
      stats.reordered++;
      return;
    }
    facingB.send(msg, b.port, "127.0.0.1");
    stats.forwarded++;
    if (held) {
      facingB.send(held, b.port, "127.0.0.1");
      stats.forwarded++;
      held = undefined;
    }
  });
  facingB.on("message", (msg) => facingA.send(msg, a.port, "127.0.0.1"));
  return {
    portForA: facingA.address().port,
    portForB: facingB.address().port,
    stats,
    close() {
      facingA.close();
      facingB.close();
    },
  };
}
