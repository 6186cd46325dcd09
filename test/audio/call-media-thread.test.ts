/**
 * What is the native media thread's own (native/call-media): the addon loads
 * and its G.711 is bit-exact with the ITU-T reference. What it does as a
 * call's media is the contract's, tested on both implementations in
 * test/audio/call-media-contract.test.ts.
 */
import { describe, expect, it } from "vitest";
import { nativeCallMedia } from "../../audio/call-media-thread.ts";
import {
  refAlawCompress,
  refAlawExpand,
  refUlawCompress,
  refUlawExpand,
} from "../support/g711-reference.ts";

describe("native/call-media", () => {
  it("is built and loads", () => {
    expect(typeof nativeCallMedia()?.open).toBe("function");
  });

  it("encodes and decodes G.711 bit-exactly with the ITU-T reference", () => {
    const n = nativeCallMedia();
    if (!n) throw new Error("native/call-media is not built");
    const all = new Int16Array(65536);
    for (let i = 0; i < 65536; i++) all[i] = i - 32768;
    const codes = new Uint8Array(256).map((_, i) => i);
    for (const [law, compress, expand] of [
      [0, refUlawCompress, refUlawExpand],
      [1, refAlawCompress, refAlawExpand],
    ] as const) {
      const enc = n.g711Encode(law, all);
      const dec = n.g711Decode(law, codes);
      const badEnc = [...all].filter((s, i) => enc[i] !== compress(s));
      const badDec = [...codes].filter((c) => dec[c] !== expand(c));
      expect(badEnc.length).toBe(0);
      expect(badDec).toEqual([]);
    }
  });
});
