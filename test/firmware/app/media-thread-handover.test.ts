/**
 * The devices' hand-over between call media threads keeps what the phone's
 * hand-over report needs (the thread before each, for its let-go stamp) for
 * the last few calls only: a thread of long ago is not kept alive by the
 * ones after it. Found by the soak (test/reliability/soak.reliability.ts): a
 * map from each thread to its predecessor chained every call's thread to the
 * last one, and the heap grew 18 kB a call. Fake threads here (what
 * MediaThreadHandOver calls of them), a real collection (--expose-gc).
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import type { CallMediaThread } from "../../../audio/call-media-thread.ts";
import { MediaThreadHandOver } from "../../../firmware/app/media-thread-handover.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

/** What the hand-over uses of a thread: its devices, its overlay, its events, its stamps. */
function fakeThread(letGo: number): CallMediaThread {
  const fake = {
    payload: new Uint8Array(64 * 1024), // a call's worth of buffers, so a leak shows
    setDevices: async () => {},
    clearOverlay: () => {},
    on: () => fake,
    started: () => ({ letGo }),
  };
  return fake as unknown as CallMediaThread;
}

describe("the devices handed over from call to call", () => {
  it("reports the thread before the last calls, and keeps no thread of long ago alive", async () => {
    const h = new MediaThreadHandOver(
      { earpiece: "ear", microphone: "mic" },
      async () => {},
      () => {},
      () => {},
    );
    const refs: WeakRef<CallMediaThread>[] = [];
    let last: CallMediaThread | undefined;
    let beforeLast: CallMediaThread | undefined;
    for (let i = 0; i < 40; i++) {
      const media = fakeThread(1000 + i);
      refs.push(new WeakRef(media));
      await h.connect(`call-${i}`, media);
      h.release(media);
      await h.devicesFree;
      beforeLast = last;
      last = media;
    }
    // What the report reads of the last call: the stamp of the thread before it.
    expect(h.releasedFor(last as CallMediaThread)).toBe(1038);
    expect(beforeLast).toBeDefined();
    beforeLast = undefined;
    last = undefined;
    for (let i = 0; i < 3; i++) {
      gc();
      await new Promise((r) => setImmediate(r));
    }
    const alive = refs.filter((r) => r.deref() !== undefined).length;
    // The last few pairs are kept for their reports; the first 30 calls' threads are gone.
    expect(alive).toBeLessThanOrEqual(6);
    expect(refs.slice(0, 30).every((r) => r.deref() === undefined)).toBe(true);
    h.stop();
  });
});
