/**
 * The demo (`bash scripts/demo.sh`, or `npx deskphone-demo`): the emergency call, lived on one page.
 * It sits outside the layers because it runs both sides: the exchange and the firmware. Starts a lab
 * Kamailio, three bench phones (2001–2003) with the emergency number 112
 * bound to 2003, and the bench page showing all three handsets.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ToneSource } from "../audio/tone-source.ts";
import { type BenchPhone, startBenchServer } from "../firmware/app/bench-server.ts";
import { type BuiltPhone, buildPhone } from "../firmware/app/build-phone.ts";
import type { CliIO } from "../firmware/app/classify-alert.ts";
import { validateConfig } from "../firmware/app/config.ts";
import { MockHandset } from "../hal/mock.ts";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";

export const DEMO_USAGE = `usage: deskphone-demo [--port N] [--audio DEVICE]

Starts a lab exchange on loopback, three bench phones 2001, 2002, 2003 with the
emergency number 112 bound to 2003, and one page showing all three handsets.
Try: 2002 lifts and dials 2003#, 2003 answers; then 2001 lifts and dials 112#.
2003's call is cut (BYE with Reason: preemption) and the emergency is put through.

  --port N        the page's port on 127.0.0.1 (default 8088; 0 picks a free one)
  --audio DEVICE  ALSA PCM for every phone's ringer and earpiece (default "null": silent)
`;

export async function demoCommand(argv: string[], io: CliIO): Promise<number> {
  let port = 8088;
  let audio = "null";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--help") {
      io.out(DEMO_USAGE);
      return 0;
    } else if (argv[i] === "--port") port = Number(argv[++i]);
    else if (argv[i] === "--audio") audio = String(argv[++i]);
    else {
      io.err(`deskphone-demo: unknown argument "${argv[i]}"\n${DEMO_USAGE}`);
      return 2;
    }
  }
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    io.err("deskphone-demo: --port takes 0-65535\n");
    return 2;
  }
  const ex = await startLabExchange();
  ex.table.setNumber("112", { description: "demo emergency number" });
  ex.table.bind("112", "2003");
  const dir = mkdtempSync(join(tmpdir(), "deskphone-demo-"));
  const built: (BuiltPhone & { user: string; handset: MockHandset })[] = [];
  for (const [user, hz] of [
    ["2001", 500],
    ["2002", 700],
    ["2003", 900],
  ] as const) {
    const r = validateConfig({
      account: { user },
      exchange: { url: ex.wsUrl },
      audio: { ringer: { device: audio, rate: 8000 }, earpiece: audio, rtpPorts: [20000, 29998] },
      journal: { path: join(dir, `${user}.jsonl`) },
    });
    if (!r.ok) throw new Error(JSON.stringify(r.errors));
    const handset = new MockHandset();
    const p = buildPhone(r.config, handset, {
      log: (level, m) => {
        if (level === "warn" || level === "error") io.err(`${user}: ${m}\n`);
      },
      // Each phone's "microphone" is a tone of its own, so who hears whom can be told apart.
      microphone: new ToneSource({
        segments: [{ ms: 1000, freqs: [hz], levelDb: -14 }],
        repeat: true,
      }),
    });
    built.push({ ...p, user, handset });
    p.phone.start();
  }
  const phones: BenchPhone[] = built.map((b) => ({
    user: b.user,
    phone: b.phone,
    agent: b.agent,
    handset: b.handset,
    journal: b.journal,
  }));
  let server: Awaited<ReturnType<typeof startBenchServer>>;
  try {
    server = await startBenchServer(phones, "127.0.0.1", port);
  } catch (e) {
    io.err(
      `deskphone-demo: cannot listen on 127.0.0.1:${port}: ${(e as Error).message} (try --port 0)\n`,
    );
    for (const b of built) await b.stop();
    await ex.stop();
    return 1;
  }
  io.out(`deskphone-demo: open ${server.url}\n`);
  io.out("  2002 lifts and dials 2003#, 2003 answers; then 2001 lifts and dials 112#.\n");
  io.out(`  exchange ${ex.wsUrl} (UDP ${ex.host}:${ex.udpPort}); Ctrl-C stops everything.\n`);
  const stop = async () => {
    await server.close();
    for (const b of built) await b.stop();
    await ex.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  await new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  io.out("deskphone-demo: stopping\n");
  await stop();
  return 0;
}
