/**
 * A real-time paced virtual sound card for benchmarks: a private JACK server
 * (`jackd -d dummy`, with the loopback backend beside it) and an ALSA
 * configuration whose "ring" PCM plays into JACK and whose "tap" PCM records
 * what came out, through the ALSA jack plugin. Needs the Debian packages
 * jackd2 and libasound2-plugins (scripts/install-bench-deps.sh).
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface JackRig {
  env: NodeJS.ProcessEnv;
  /** JACK's period, ms. */
  periodMs: number;
  stop(): void;
}

/**
 * JACK keeps its servers in a shared-memory registry (/dev/shm/jack-*) that
 * servers killed hard leave behind; after a few, jackd refuses to start ("Too
 * many servers already active"). With no jackd running at all, what is there
 * is stale and is removed.
 */
function clearStaleJackRegistry(): void {
  try {
    execFileSync("pgrep", ["-x", "jackd"], { stdio: "ignore" });
    return; // some jackd runs: leave its registry alone
  } catch {}
  for (const f of readdirSync("/dev/shm"))
    if (f.startsWith("jack")) rmSync(join("/dev/shm", f), { force: true, recursive: true });
}

export async function startJackRig(rate = 48000, period = 64): Promise<JackRig> {
  try {
    execFileSync(
      "sh",
      [
        "-c",
        "command -v jackd && test -e /usr/lib/$(uname -m)-linux-gnu/alsa-lib/libasound_module_pcm_jack.so",
      ],
      { stdio: "ignore" },
    );
  } catch {
    throw new Error("jackd2 and libasound2-plugins are needed: bash scripts/install-bench-deps.sh");
  }
  clearStaleJackRegistry();
  const dir = mkdtempSync(join(tmpdir(), "deskphone-jack-"));
  const server = `deskphone-bench-${process.pid}`;
  const conf = join(dir, "asound.conf");
  writeFileSync(
    conf,
    [
      "</usr/share/alsa/alsa.conf>",
      'pcm.ring_jack { type jack playback_ports { 0 "loopback:playback_1" } }',
      'pcm.ring { type plug slave.pcm "ring_jack" }',
      'pcm.tap_jack { type jack capture_ports { 0 "loopback:capture_1" } }',
      'pcm.tap { type plug slave.pcm "tap_jack" }',
      "",
    ].join("\n"),
  );
  const env = {
    ...process.env,
    ALSA_CONFIG_PATH: conf,
    JACK_DEFAULT_SERVER: server,
    JACK_NO_AUDIO_RESERVATION: "1",
  };
  const jackd: ChildProcess = spawn(
    "jackd",
    [
      "-n",
      server,
      "--no-realtime",
      "-X",
      "loopback",
      "-d",
      "dummy",
      "-r",
      String(rate),
      "-p",
      String(period),
    ],
    { env, stdio: "ignore" },
  );
  await new Promise((r) => setTimeout(r, 800));
  if (jackd.exitCode !== null) throw new Error(`jackd exited (${jackd.exitCode})`);
  return {
    env,
    periodMs: (period / rate) * 1000,
    stop() {
      jackd.kill("SIGTERM");
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
