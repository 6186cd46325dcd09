import { describe, expect, it } from "vitest";
import { decodeG711, encodeG711, silenceCode } from "../../audio/g711.ts";
import {
  refAlawCompress,
  refAlawExpand,
  refUlawCompress,
  refUlawExpand,
} from "../support/g711-reference.ts";

const ALL_LINEAR = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
const ALL_CODES = Uint8Array.from({ length: 256 }, (_, i) => i);

describe("G.711 against the ITU-T G.191 reference", () => {
  it("μ-law encodes all 65,536 linear inputs bit-exactly", () => {
    const got = encodeG711("pcmu", ALL_LINEAR);
    const bad = [...ALL_LINEAR].filter((x, i) => got[i] !== refUlawCompress(x));
    expect(bad).toEqual([]);
  });
  it("A-law encodes all 65,536 linear inputs bit-exactly", () => {
    const got = encodeG711("pcma", ALL_LINEAR);
    const bad = [...ALL_LINEAR].filter((x, i) => got[i] !== refAlawCompress(x));
    expect(bad).toEqual([]);
  });
  it("μ-law and A-law decode all 256 codes bit-exactly", () => {
    const u = decodeG711("pcmu", ALL_CODES);
    const a = decodeG711("pcma", ALL_CODES);
    expect([...ALL_CODES].filter((c) => u[c] !== refUlawExpand(c))).toEqual([]);
    expect([...ALL_CODES].filter((c) => a[c] !== refAlawExpand(c))).toEqual([]);
  });
  it("matches the standard's end points (G.711 Tables 2a, 2b)", () => {
    const u = decodeG711("pcmu", Uint8Array.of(0x00, 0x80, 0xff, 0x7f));
    expect([...u]).toEqual([-32124, 32124, 0, 0]);
    const a = decodeG711("pcma", Uint8Array.of(0xd5, 0x55, 0xaa, 0x2a));
    expect([...a]).toEqual([8, -8, 32256, -32256]);
    expect(silenceCode("pcmu")).toBe(encodeG711("pcmu", Int16Array.of(0))[0]);
    expect(silenceCode("pcma")).toBe(encodeG711("pcma", Int16Array.of(0))[0]);
  });
  it("every code survives decode then encode", () => {
    for (const law of ["pcmu", "pcma"] as const) {
      const again = encodeG711(law, decodeG711(law, ALL_CODES));
      // μ-law's negative zero (0x7F) decodes to 0, which encodes as positive zero (0xFF).
      const bad = [...ALL_CODES].filter((c) => again[c] !== c && !(law === "pcmu" && c === 0x7f));
      expect(bad).toEqual([]);
    }
  });
});
