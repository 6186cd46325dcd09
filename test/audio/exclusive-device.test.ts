/**
 * The test-only exclusive ALSA device (test/support/alsa-exclusive), checked
 * the way a real `hw` device behaves: a second open gets EBUSY until the first
 * holder closes or dies; it is paced by the clock; aplay, arecord and the
 * native call media thread all work with it, and the thread reports the busy
 * device as a device error.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { AlsaDeviceError } from "../../audio/alsa-process.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import { alsaLab } from "../support/alsa-lab.ts";

const lab = alsaLab({ exclusive: true });
// The media thread opens devices by name through this process's ALSA configuration.
process.env.ALSA_CONFIG_PATH = lab.env.ALSA_CONFIG_PATH;
afterAll(() => lab.cleanup());

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const monotonicMs = () => Number(process.hrtime.bigint()) / 1e6;

/** Runs aplay/arecord on the lab's config; resolves with its exit code, stderr and run time. */
function run(
  cmd: "aplay" | "arecord",
  args: string[],
): { child: ChildProcess; done: Promise<{ code: number | null; stderr: string; ms: number }> } {
  const started = monotonicMs();
  const child = spawn(cmd, ["-q", "-f", "S16_LE", "-r", "8000", "-c", "1", "-t", "raw", ...args], {
    env: lab.env,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (d) => {
    stderr += d;
  });
  const done = new Promise<{ code: number | null; stderr: string; ms: number }>((resolve) =>
    child.on("close", (code) => resolve({ code, stderr, ms: monotonicMs() - started })),
  );
  return { child, done };
}

async function until(what: string, test: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!test()) {
    if (Date.now() > end) throw new Error(`not ${what} within ${ms} ms`);
    await sleep(10);
  }
}

const opens = (device: string) => lab.deviceLog(device).filter((e) => e.event === "open").length;
const closes = (device: string) => lab.deviceLog(device).filter((e) => e.event === "close").length;

describe("the exclusive test device", () => {
  it("refuses a second aplay with EBUSY, records the first, is paced, and is free once the first exits", async () => {
    const samples = new Int16Array(8000).map((_, i) => Math.round(8000 * Math.sin(i / 3)));
    const file = join(lab.dir, "second.raw");
    writeFileSync(file, Buffer.from(samples.buffer));
    const first = run("aplay", ["-D", "hw-earpiece", file]);
    // Started, not only opened: the log's order below has the first's start before the
    // second's refusal, and the two aplays are separate processes.
    await until("started by the first aplay", () =>
      lab.deviceLog("hw-earpiece").some((e) => e.event === "start"),
    );
    const second = await run("aplay", ["-D", "hw-earpiece", file]).done;
    expect(second.code).not.toBe(0);
    expect(second.stderr).toMatch(/Device or resource busy/);
    const one = await first.done;
    expect(one.code, one.stderr).toBe(0);
    // One second of audio took about a second: the device plays at its rate.
    expect(one.ms).toBeGreaterThan(900);
    expect([...lab.played("hw-earpiece").subarray(0, 8000)]).toEqual([...samples]);
    const again = await run("aplay", ["-D", "hw-earpiece", file]).done;
    expect(again.code, again.stderr).toBe(0);
    expect(lab.deviceLog("hw-earpiece").map((e) => e.event)).toEqual([
      "open",
      "start",
      "busy",
      "stop",
      "close",
      "open",
      "start",
      "stop",
      "close",
    ]);
  }, 15_000);

  it("is released when its holder dies (SIGKILL), and arecord captures what was fed at its rate", async () => {
    const fed = new Int16Array(4000).map((_, i) => (i % 100) * 10);
    lab.feed("hw-mic", fed);
    const holder = run("arecord", ["-D", "hw-mic", "-d", "10", "/dev/null"]);
    await until("opened by the holder", () => opens("hw-mic") === 1);
    const busy = await run("arecord", ["-D", "hw-mic", "-d", "1", "/dev/null"]).done;
    expect(busy.stderr).toMatch(/Device or resource busy/);
    holder.child.kill("SIGKILL");
    await holder.done;
    const out = join(lab.dir, "captured.raw");
    const rec = await run("arecord", ["-D", "hw-mic", "-d", "1", out]).done;
    expect(rec.code, rec.stderr).toBe(0);
    expect(rec.ms).toBeGreaterThan(900);
    const buf = readFileSync(out);
    const got = new Int16Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length));
    expect(got.length).toBe(8000);
    // The fed half second, looped.
    expect([...got.subarray(0, 4000)]).toEqual([...fed]);
    expect([...got.subarray(4000, 8000)]).toEqual([...fed]);
  }, 20_000);

  it("the native media thread plays on it on its own clock; a second thread gets EBUSY as a device error", async () => {
    const a = await CallMediaThread.open({ localAddress: "127.0.0.1" });
    const b = await CallMediaThread.open({ localAddress: "127.0.0.1" });
    const errors: AlsaDeviceError[] = [];
    const aErrors: AlsaDeviceError[] = [];
    a.on("device", (e) => aErrors.push(e));
    b.on("device", (e) => errors.push(e));
    try {
      const before = opens("hw-earpiece");
      const micBefore = opens("hw-mic");
      await a.setDevices("hw-earpiece", "hw-mic");
      await until("opened by thread A", () => opens("hw-earpiece") === before + 1);
      await b.setDevices("hw-earpiece", "hw-mic");
      await until("B's device errors", () => errors.length === 2);
      expect(errors.map((e) => e.message).sort()).toEqual([
        'ALSA device "hw-earpiece" failed: open: Device or resource busy',
        'ALSA device "hw-mic" failed: open: Device or resource busy',
      ]);
      await sleep(1000);
      const s = a.stats().devices;
      // A second on its 20 ms clock: about 50 frames each way, and the device kept up.
      expect(s.earFrames).toBeGreaterThan(40);
      expect(s.micFrames).toBeGreaterThan(40);
      expect(s.earUnderruns).toBeLessThanOrEqual(3);
      // A lets go (setDevices resolves once the thread has closed them); B takes them at once.
      const closed = closes("hw-earpiece");
      await a.setDevices(undefined, undefined);
      expect(closes("hw-earpiece")).toBe(closed + 1);
      await b.setDevices(undefined, undefined);
      await b.setDevices("hw-earpiece", "hw-mic");
      await until("opened by thread B", () => opens("hw-earpiece") === before + 2, 500);
      expect(aErrors).toEqual([]);
      await until("mic opened by thread B", () => opens("hw-mic") === micBefore + 2, 500);
    } finally {
      a.close();
      b.close();
      await Promise.all([a.closed, b.closed]);
    }
  }, 20_000);
});
