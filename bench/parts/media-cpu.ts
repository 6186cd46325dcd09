/**
 * npm run bench's part for call media CPU: bench/media-cpu.ts run once per
 * way and round, each in a process of its own, our media thread and baresip
 * interleaved (thread, baresip, thread, baresip, …) on the JACK rig; the
 * medians per minute of call. "All in": every thread of the process that
 * carries the call, the virtual card's JACK client threads included (a real
 * card has none: our figure without them is a row of its own).
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type PartResult, spread } from "../bench-table.ts";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

interface OneWay {
  backend: string;
  /** % of one core: the phone's media without the card's threads (baresip: all). */
  phone: number;
  card: number;
  cardIncluded?: boolean;
}

function once(backend: string, seconds: number, log: (s: string) => void): Promise<OneWay> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", "bench/media-cpu.ts"], {
      cwd: ROOT,
      env: {
        ...process.env,
        MEDIA_BACKEND: backend,
        MEDIA_JSON: "1",
        MEDIA_SECONDS: String(seconds),
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout?.on("data", (d) => {
      out += d;
    });
    child.stderr?.on("data", (d) => {
      err += d;
    });
    child.once("exit", (code) => {
      log(out.replace(/^JSON .*\n/m, "").trimEnd());
      const line = out.split("\n").find((l) => l.startsWith("JSON "));
      if (line) resolve(JSON.parse(line.slice(5)) as OneWay);
      else reject(new Error(`bench/media-cpu.ts (${backend}) exited ${code}: ${err.slice(-500)}`));
    });
  });
}

export async function run(
  o: { quick?: boolean; rounds?: number; seconds?: number; log?: (s: string) => void } = {},
): Promise<PartResult> {
  const log = o.log ?? ((s: string) => console.error(s));
  const rounds = o.rounds ?? (o.quick ? 1 : 2);
  const seconds = o.seconds ?? (o.quick ? 10 : 20);
  const perMin = (pct: number) => (60 * pct) / 100;
  const ours: number[] = [];
  const oursOwn: number[] = [];
  const theirs: number[] = [];
  const errors: string[] = [];
  for (let r = 0; r < rounds; r++)
    for (const way of ["thread", "baresip"]) {
      try {
        const j = await once(way, seconds, log);
        if (way === "baresip") theirs.push(perMin(j.phone + j.card));
        else {
          ours.push(perMin(j.phone + j.card));
          oursOwn.push(perMin(j.phone));
        }
      } catch (e) {
        errors.push((e as Error).message);
        log((e as Error).message);
      }
    }
  const or = (xs: number[], way: string) => {
    const s = spread(xs);
    const why = errors.find((e) => e.includes(`(${way})`));
    return "notMeasured" in s && why ? { notMeasured: why } : s;
  };
  const config = `bench/media-cpu.ts, ${rounds} round(s) of ${seconds} s per way, interleaved; one full-duplex G.711 call (PCMU, 20 ms): microphone → RTP → far end (another process, a tone back, not counted) → jitter buffer → earpiece, on the JACK dummy card (48 kHz, 1.33 ms periods) through the ALSA jack plugin; CPU from /proc/…/task/*/schedstat; ours: the call media thread (the firmware's way, SCHED_FIFO), the call opened after 10 s of idling (V8's start-up tail not counted), baresip 1.0.0 (alsa module) in a call through the lab Kamailio to a second baresip`;
  return {
    rows: [
      {
        id: "media-cpu",
        label: "CPU per full-duplex G.711 call-minute, all in",
        unit: "CPU-s",
        ours: or(ours, "thread"),
        ref: { name: "baresip", value: or(theirs, "baresip") },
        target: { kind: "ratioAtMost", value: 1 },
        config: `${config}; all in: every thread of the process carrying the call, the virtual card's JACK client threads included`,
      },
      {
        id: "media-cpu-own",
        label: "CPU per call-minute, without the virtual card's JACK threads",
        unit: "CPU-s",
        ours: or(oursOwn, "thread"),
        config: `${config}; the JACK client threads the ALSA jack plugin starts in our process left out (told apart by name); baresip's cannot be told apart`,
      },
    ],
  };
}
