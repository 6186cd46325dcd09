/**
 * The memory settle (firmware/app/memory-settle.ts): a full collection and
 * malloc_trim once the phone is idle and quiet after a burst — never while a
 * call rings or is up. The first test runs the firmware's own composition in
 * the production shape (real Kamailio over wss://, the controller, the native
 * media thread) and records the controller's phase at each collection.
 */
import { EventEmitter } from "node:events";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { nativeCallMedia } from "../../../audio/call-media-thread.ts";
import { fullCollection, MemorySettle } from "../../../firmware/app/memory-settle.ts";
import type { PhaseKind, PhoneState } from "../../../firmware/controller/state.ts";
import { type ProductionRig, startProductionRig } from "../../support/production-rig.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const QUIET = 300;

describe.skipIf(nativeCallMedia() === undefined)(
  "the settle around a real call (skipped only when native/call-media is not built)",
  () => {
    let rig: ProductionRig;
    beforeAll(async () => {
      rig = await startProductionRig();
    }, 30_000);
    afterAll(async () => {
      await rig?.stop();
    });

    it("never collects while the call rings, talks or the handset is off hook; collects once quiet after it", async () => {
      const p = await rig.firmwarePhone("2001");
      const c = await rig.caller("3001");
      const phases: PhaseKind[] = [];
      const trims: PhaseKind[] = [];
      const settle = new MemorySettle(
        { phone: p.built.phone, agent: p.built.agent },
        {
          quietMs: QUIET,
          trimDelayMs: 100,
          growthBytes: 0,
          collect: () => phases.push(p.built.phone.state.phase.kind),
          trim: () => trims.push(p.built.phone.state.phase.kind),
        },
      );
      try {
        c.dial("m-1", "2001");
        await p.waitFor("ringing", (s) => s.phase.kind === "ringing");
        await sleep(QUIET * 3);
        p.handset.lift();
        await p.waitFor("talking", (s) => s.phase.kind === "talking");
        await sleep(QUIET * 3);
        c.hangUp("m-1");
        await p.waitFor("hung up", (s) => s.phase.kind === "hungUp");
        await sleep(QUIET * 3);
        expect(phases).toEqual([]);
        p.handset.replace();
        await p.waitFor("idle", (s) => s.phase.kind === "idle");
        // Quiet now: the settle's collection and its trim come (quietMs, then trimDelayMs),
        // waited for rather than assumed done within a fixed time.
        const deadline = Date.now() + 10_000;
        while (settle.settles.length === 0 && Date.now() < deadline) await sleep(20);
        expect(phases).toEqual(["idle"]);
        expect(trims).toEqual(["idle"]);
        expect(settle.settles).toHaveLength(1);
      } finally {
        settle.stop();
      }
    }, 30_000);
  },
);

/** A phone whose controller state the test sets, for the timing rules. */
class StatePhone extends EventEmitter<{ state: [PhoneState] }> {
  state = { phase: { kind: "idle" } } as PhoneState;
  set(kind: PhaseKind): void {
    this.state = { phase: { kind } } as PhoneState;
    this.emit("state", this.state);
  }
}

describe("the settle's quiet time and growth", () => {
  it("waits for quietMs after the last activity (SIP refusals count), settles once more lingerMs later, then rests", () => {
    vi.useFakeTimers();
    try {
      const phone = new StatePhone();
      const agent = new EventEmitter<{ refused: unknown[] }>();
      let rss = 100;
      const collect = vi.fn(() => {
        rss -= 30;
      });
      const s = new MemorySettle(
        { phone, agent },
        {
          quietMs: 1000,
          lingerMs: 5000,
          trimDelayMs: 100,
          growthBytes: 10,
          collect,
          rss: () => rss,
        },
      );
      rss = 150;
      phone.set("idle");
      vi.advanceTimersByTime(900);
      agent.emit("refused", "x", 503, "flood");
      vi.advanceTimersByTime(900);
      expect(collect).not.toHaveBeenCalled();
      vi.advanceTimersByTime(200);
      expect(collect).toHaveBeenCalledTimes(1);
      expect(s.settles[0]).toMatchObject({ beforeBytes: 150, afterBytes: 120 });
      // The second one, without growth: what sip.js held for 64·T1 is garbage by then.
      vi.advanceTimersByTime(4800); // the first ran at 1900 ms
      expect(collect).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(200);
      expect(collect).toHaveBeenCalledTimes(2);
      // Then nothing while idle, and nothing after activity that grew less than growthBytes.
      vi.advanceTimersByTime(60_000);
      rss += 5;
      phone.set("idle");
      vi.advanceTimersByTime(60_000);
      expect(collect).toHaveBeenCalledTimes(2);
      expect(vi.getTimerCount()).toBe(0);
      s.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("a call that comes up while the quiet time runs, or before malloc_trim, cancels what is left", () => {
    vi.useFakeTimers();
    try {
      const phone = new StatePhone();
      let rss = 100;
      const collect = vi.fn();
      const trim = vi.fn();
      const s = new MemorySettle(
        { phone },
        { quietMs: 1000, trimDelayMs: 500, growthBytes: 1, collect, trim, rss: () => rss },
      );
      rss = 200;
      phone.set("idle");
      vi.advanceTimersByTime(500);
      phone.set("ringing");
      vi.advanceTimersByTime(5000);
      phone.set("talking");
      vi.advanceTimersByTime(5000);
      expect(collect).not.toHaveBeenCalled();
      phone.set("idle");
      vi.advanceTimersByTime(1000);
      expect(collect).toHaveBeenCalledTimes(1);
      phone.set("ringing");
      vi.advanceTimersByTime(5000);
      expect(trim).not.toHaveBeenCalled();
      expect(s.settles).toEqual([]);
      s.stop();
    } finally {
      vi.useRealTimers();
    }
  });

  it("the full collection is V8's own: it frees what is unreachable", async () => {
    const gc = fullCollection();
    let big: number[] | undefined = Array.from({ length: 2_000_000 }, (_, i) => i);
    const ref = new WeakRef(big);
    big = undefined;
    await sleep(0);
    gc();
    expect(ref.deref()).toBeUndefined();
  });
});
