/** The room's N−1 mix (server/focus/mix.ts): sums, clips, leaves each one's own audio out. */
import { describe, expect, it } from "vitest";
import { FRAME, MixClock, mixMinusOne, RoomMix } from "../../server/focus/mix.ts";
import { readRoomRequest } from "../../server/focus/room-request.ts";

const frame = (v: number) => new Int16Array(FRAME).fill(v);

describe("mixMinusOne", () => {
  it("gives each participant the sum of the others", () => {
    const inputs = [frame(100), frame(-30), frame(7)];
    const outputs = inputs.map(() => new Int16Array(FRAME));
    mixMinusOne(inputs, outputs, new Int32Array(FRAME));
    expect(outputs.map((o) => o[0])).toEqual([-23, 107, 70]);
    expect(outputs.every((o) => o.every((v) => v === o[0]))).toBe(true);
  });

  it("clips to 16 bits rather than wrapping", () => {
    const inputs = [frame(30000), frame(30000), frame(-30000), frame(-30000), frame(-30000)];
    const outputs = inputs.map(() => new Int16Array(FRAME));
    mixMinusOne(inputs, outputs, new Int32Array(FRAME));
    // 30000 hears 30000 − 90000 = −60000 → −32768; −30000 hears 60000 − 60000 = 0.
    expect(outputs.map((o) => o[0])).toEqual([-32768, -32768, 0, 0, 0]);
    const loud = [frame(32767), frame(32767), frame(0)];
    const out = loud.map(() => new Int16Array(FRAME));
    mixMinusOne(loud, out, new Int32Array(FRAME));
    expect(out[2]?.[0]).toBe(32767);
  });
});

describe("RoomMix", () => {
  const leg = (v: number) => {
    const sent: number[] = [];
    return {
      sent,
      read: (out: Int16Array) => {
        out.fill(v);
        return true;
      },
      sendFrame: (pcm: Int16Array) => sent.push(pcm[0] as number),
    };
  };

  it("a leg alone hears its waiting source; once another joins, the mix", () => {
    const clock = new MixClock();
    const mix = new RoomMix(clock);
    const caller = leg(5);
    mix.add("caller", caller);
    mix.whileAlone("caller", {
      read: (o) => {
        o.fill(99);
        return true;
      },
    });
    mix.tick();
    const callee = leg(11);
    mix.add("2001", callee);
    mix.tick();
    mix.remove("2001");
    mix.tick();
    expect(caller.sent).toEqual([99, 11, 99]);
    expect(callee.sent).toEqual([5]);
    mix.stop();
  });
});

describe("readRoomRequest", () => {
  const hdrs = (h: Record<string, string[]>) => (n: string) => h[n] ?? [];
  const ok = { "X-Deskphone-Emergency": ["112"], "X-Deskphone-Bound": ["2001,2002"] };

  it("takes the number and bound users from the verified exchange connection", () => {
    expect(readRoomRequest(true, hdrs(ok))).toEqual({ number: "112", users: ["2001", "2002"] });
  });

  it("refuses them from anywhere else, and anything outside the admin command's rules", () => {
    expect(readRoomRequest(false, hdrs(ok))).toHaveProperty("refused");
    for (const bad of [
      { ...ok, "X-Deskphone-Emergency": ["112' OR 1=1 --"] },
      { ...ok, "X-Deskphone-Bound": ["2001,x y"] },
      { ...ok, "X-Deskphone-Bound": ["2001,"] },
      { ...ok, "X-Deskphone-Bound": ["2001", "2002"] },
      { "X-Deskphone-Bound": ["2001"] },
    ]) {
      expect(readRoomRequest(true, hdrs(bad)), JSON.stringify(bad)).toHaveProperty("refused");
    }
  });
});
