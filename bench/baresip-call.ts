/**
 * baresip's side of the media benchmark: baresip (Debian baresip-core, its
 * alsa module) as the phone, earpiece and microphone on the JACK rig's
 * `ring` and `tap`, in a G.711 call through the lab Kamailio to another
 * baresip that sends a tone (not counted). Returns the phone-side process's
 * CPU over `seconds`, all its threads (the ALSA jack plugin's among them).
 */
import { readdirSync, readFileSync } from "node:fs";
import { startLabExchange } from "../server/kamailio/lab-exchange.ts";
import { startBaresip } from "../test/support/baresip.ts";
import type { JackRig } from "./jack-rig.ts";

/** CPU seconds of every thread of a process (/proc/PID/task/N/schedstat, ns). */
function processCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      out.set(tid, ns / 1e9);
    } catch {}
  }
  return out;
}

export async function measureBaresip(
  rig: JackRig,
  seconds: number,
): Promise<{ cpuS: number; wall: number; established: boolean }> {
  const ex = await startLabExchange();
  const far = await startBaresip(ex, "3190", { env: process.env, toneHz: 600, dump: false });
  const near = await startBaresip(ex, "3191", {
    env: rig.env,
    player: "alsa,ring",
    source: "alsa,tap",
    sourceRate: 8000,
    sourceChannels: 1,
    dump: false,
  });
  try {
    await near.command("dial", `sip:3190@${ex.host}:${ex.udpPort}`);
    await far.waitEvent("CALL_INCOMING");
    await far.command("accept");
    await near.waitEvent("CALL_ESTABLISHED");
    await new Promise((r) => setTimeout(r, 1000)); // settle
    const nearPid = near.pid;
    const c0 = processCpu(nearPid);
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const wall = (performance.now() - t0) / 1000;
    const c1 = processCpu(nearPid);
    let cpuS = 0;
    const parts: string[] = [];
    for (const [tid, v] of c1) {
      const d = v - (c0.get(tid) ?? 0);
      cpuS += d;
      let comm = "?";
      try {
        comm = readFileSync(`/proc/${nearPid}/task/${tid}/comm`, "utf8").trim();
      } catch {}
      if (d > 0) parts.push(`${comm} ${((100 * d) / (wall || 1)).toFixed(2)} %`);
    }
    console.log(`  baresip by thread: ${parts.join(", ")}`);
    if (process.env.MEDIA_DEBUG) console.log(near.output().slice(-3000));
    await near.command("hangup");
    return { cpuS, wall, established: true };
  } finally {
    await near.stop();
    await far.stop();
    await ex.stop();
  }
}
