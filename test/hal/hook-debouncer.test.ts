/** Debounce and flash on the injected clock: bursts of bounces and boundary durations. */
import { describe, expect, it } from "vitest";
import type { HookEvent } from "../../hal/contracts.ts";
import { HookDebouncer } from "../../hal/hook-debouncer.ts";
import { ManualClock } from "../support/manual-clock.ts";

/** Plays a script of [at ms, level] edges (edges stamped with their own time) and returns the events with times. */
function play(edges: [number, boolean][], until: number, initialOffHook = false) {
  const clock = new ManualClock();
  const events: [number, HookEvent][] = [];
  const d = new HookDebouncer(initialOffHook, clock, (e) => events.push([clock.now(), e]));
  for (const [at, level] of edges) {
    clock.advance(at - clock.now());
    d.edge(level, at);
  }
  clock.advance(until - clock.now());
  return events;
}

/** A burst of bounces: the level flips every `every` ms, `n` times, ending on `level`. */
function bounce(at: number, level: boolean, n = 5, every = 2): [number, boolean][] {
  return Array.from(
    { length: n },
    (_, i) => [at + i * every, i % 2 === 0 ? level : !level] as [number, boolean],
  ).concat([[at + n * every, level]]);
}

describe("hook switch debounce", () => {
  it("a lift with a burst of bounces gives one offHook, 25 ms after the last bounce", () => {
    // Bounces at 100…108 ms; the level last changes at 108.
    expect(play(bounce(100, true), 1000)).toEqual([[133, "offHook"]]);
  });

  it("a blip shorter than the debounce gives nothing", () => {
    expect(
      play(
        [
          [100, true],
          [120, false],
        ],
        1000,
      ),
    ).toEqual([]);
    expect(
      play(
        [
          [100, true],
          [124, false],
        ],
        1000,
      ),
    ).toEqual([]);
  });

  it("a level held exactly the debounce time counts", () => {
    expect(
      play(
        [
          [100, true],
          [125, false],
        ],
        200,
      ),
    ).toEqual([[125, "offHook"]]);
  });
});

describe("hook flash and hang-up", () => {
  const lifted = (at: number): [number, boolean][] => [[at, true]];
  it.each([
    [99, []],
    [100, ["flash"]],
    [500, ["flash"]],
    [900, ["flash"]],
    [901, ["onHook", "offHook"]],
  ] as [number, HookEvent[]][])("on-hook for %i ms and back: %j", (down, want) => {
    const events = play([...lifted(0), [1000, false], [1000 + down, true]], 5000);
    expect(events.map((e) => e[1])).toEqual(["offHook", ...want]);
  });

  it("on-hook longer than the flash window is a hang-up, reported when the window closes", () => {
    const events = play([...lifted(0), [1000, false], [2000, true]], 5000);
    // The window (900 ms) closes once an edge at its end would have settled (+25 ms).
    expect(events).toEqual([
      [25, "offHook"],
      [1925, "onHook"],
      [2025, "offHook"],
    ]);
  });

  it("a flash with bounces on both edges is still one flash", () => {
    const events = play([...lifted(0), ...bounce(1000, false), ...bounce(1300, true)], 5000);
    expect(events.map((e) => e[1])).toEqual(["offHook", "flash"]);
  });

  it("uses the edges' own timestamps, not when they are handled", () => {
    const clock = new ManualClock();
    const events: HookEvent[] = [];
    const d = new HookDebouncer(true, clock, (e) => events.push(e));
    clock.advance(1000);
    d.edge(false, 1000);
    // The off-hook edge happened at 1850 (850 ms down: a flash) but a busy event loop
    // hands it over only at 1915, when 915 ms have passed by the clock.
    clock.advance(915);
    d.edge(true, 1850);
    clock.advance(1000);
    expect(events).toEqual(["flash"]);
  });
});
