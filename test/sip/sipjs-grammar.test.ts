/**
 * sip.js's header parser with its tables built once (scripts/patch-sipjs.mjs,
 * run by `npm ci`): installed, and the same as sip.js's own, kept beside it as
 * grammar.pristine.js — the same result for every header it parses, and the
 * same error, word for word, for every one it refuses (the error names what
 * was expected where, so failure bookkeeping left over from an earlier parse
 * would show). Inputs: the headers of real exchanges' messages, the malformed
 * shapes of test/reliability/malformed-sip.reliability.ts, and random
 * mutations of the valid ones, parsed interleaved so that each parse follows
 * another's success or failure.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  GRAMMAR_DIST,
  GRAMMAR_PIECES,
  type GrammarParse,
  loadGrammar,
  mutatedHeader,
  shape,
} from "../support/sip-grammar.ts";

/** One parse as sip.js's Grammar.parse does it: the data, or the error's text. */
function outcome(parse: GrammarParse, rule: string, input: string) {
  const options: { startRule: string; data?: unknown } = { startRule: rule };
  try {
    const returned = parse(input, options);
    return { ok: true, returned, data: options.data };
  } catch (e) {
    return { ok: false, error: (e as Error).message, data: options.data };
  }
}

const VALID: [string, string][] = [
  ["Request_Response", "INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0"],
  ["Request_Response", "SIP/2.0 180 Ringing"],
  ["Request_Response", "SIP/2.0 200 OK"],
  ["Request_Response", "OPTIONS sip:2001@[2001:db8::1]:5060 SIP/2.0"],
  ["Via", "SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKabc;rport"],
  ["Via", "SIP/2.0/UDP 10.0.0.1:5062;received=10.0.0.2;rport=5062;branch=z9hG4bK77"],
  ["Via", "SIP/2.0/WSS df7jal23ls0d.invalid;branch=z9hG4bKxyz;alias"],
  ["Via", "SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bK1;ttl=16;maddr=224.2.0.1"],
  ["From", '"Caller 3001" <sip:3001@127.0.0.1>;tag=4fa9'],
  ["From", "<sip:3001@127.0.0.1>;tag=abc"],
  ["From", "sip:3001@example.com;tag=x"],
  ["From", '"A \\"q\\" B" <sip:a%20b@example.com;user=phone>;tag=1;x=y'],
  ["To", "<sip:2001@127.0.0.1>"],
  ["To", "<sip:2001@127.0.0.1>;tag=dp12"],
  ["To", "Bob <sips:bob@biloxi.example.com?subject=x&priority=urgent>"],
  ["Call_ID", "a84b4c76e66710@pc33.atlanta.com"],
  ["Call_ID", "0ea3f5d2b1"],
  ["CSeq", "1 INVITE"],
  ["CSeq", "314159 CANCEL"],
  ["Max_Forwards", "70"],
  ["Content_Length", "142"],
  ["Content_Type", "application/sdp"],
  ["Content_Type", "multipart/mixed;boundary=unique-boundary-1"],
  ["Contact", "<sip:3001@127.0.0.1:5062>"],
  [
    "Contact",
    '"Mr. Watson" <sip:watson@worcester.bell-telephone.com>;q=0.7;expires=3600, <sip:w@x.com>;q=0.1',
  ],
  ["Record_Route", "<sip:127.0.0.1:5060;transport=ws;r2=on;lr>, <sip:127.0.0.1;r2=on;lr>"],
  ["Session_Expires", "1800;refresher=uac"],
  ["Min_SE", "90"],
  ["Supported", "replaces, timer"],
  ["Require", "timer"],
  ["WWW_Authenticate", 'Digest realm="x", nonce="abc", qop="auth", algorithm=MD5'],
  ["Proxy_Authenticate", 'Digest realm="x", nonce="abc", stale=TRUE'],
  ["Event", "refer;id=93809824"],
  ["Refer_To", "<sip:2002@127.0.0.1?Replaces=abc%40h%3Bto-tag%3D1%3Bfrom-tag%3D2>"],
  ["Replaces", "abc@h;to-tag=1;from-tag=2"],
  ["Name_Addr_Header", '"X" <sip:x@y>'],
  ["SIP_URI", "sip:alice:secret@atlanta.com;transport=tcp?subject=project"],
  ["absoluteURI", "ws://127.0.0.1:8080/path"],
  ["uuid", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6"],
];

const MALFORMED: [string, string][] = [
  ["Contact", "*"],
  ["Contact", "<mailto:w@x.com>"],
  ["Request_Response", "INVITE sip:2001@127.0.0.1 SIP/3.0"],
  ["Request_Response", "INVITE  SIP/2.0"],
  ["Request_Response", "INVITE sip:@@@:x SIP/2.0"],
  ["Request_Response", "SIP/2.0 200"],
  ["Request_Response", "GARBAGE GARBAGE"],
  ["Request_Response", ""],
  ["Via", "SIP/2.0/WS"],
  ["Via", "SIP/2.0/WS 127.0.0.1:99999999999;branch="],
  ["From", "<sip:3001@127.0.0.1"],
  ["From", '"unterminated <sip:a@b>'],
  ["To", "<>"],
  ["Call_ID", "a b"],
  ["CSeq", "x INVITE"],
  ["CSeq", "1"],
  ["Max_Forwards", "seventy"],
  ["Content_Length", "-1"],
  ["Content_Length", "lots"],
  ["Content_Type", "application"],
  ["Contact", "<sip:a@b>;q=2.5"],
  ["Record_Route", "sip:no-brackets@h"],
  ["Session_Expires", "abc"],
  ["From", `<sip:a@b>;tag=${"\0"}`],
  ["Via", `SIP/2.0/WS ${"h".repeat(10_000)}`],
];

/** What a mutation puts in: the characters the grammar cares about. */
const PIECES = [...GRAMMAR_PIECES, "[", "]", "x", "9", ",", "/"];

const [pristine, patched] = await Promise.all([
  loadGrammar("grammar.pristine.js"),
  loadGrammar("grammar.js"),
]);

describe("sip.js's header parser, tables built once", () => {
  it("is installed (npm ci ran scripts/patch-sipjs.mjs)", () => {
    const text = readFileSync(join(GRAMMAR_DIST, "grammar.js"), "utf8");
    expect(
      text.startsWith("// deskphone: tables built once"),
      "sip.js's grammar is not patched: run npm ci (or node scripts/patch-sipjs.mjs)",
    ).toBe(true);
    expect(readFileSync(join(GRAMMAR_DIST, "grammar.pristine.js"), "utf8")).not.toContain(
      "deskphone",
    );
  });

  it("parses and refuses the known headers exactly as sip.js's own, each after another", () => {
    const all = [...VALID, ...MALFORMED];
    // Each header after every other (a success after a failure and the reverse).
    for (const [rule, input] of all) {
      for (const [r2, i2] of all) {
        const a = outcome(pristine, r2, i2);
        const b = outcome(patched, r2, i2);
        expect(shape(b), `${r2}: ${i2.slice(0, 80)}`).toEqual(shape(a));
      }
      const a = outcome(pristine, rule, input);
      const b = outcome(patched, rule, input);
      expect(shape(b), `${rule}: ${input.slice(0, 80)}`).toEqual(shape(a));
    }
    const valid = VALID.filter(([r, i]) => outcome(pristine, r, i).ok).length;
    expect(valid).toBe(VALID.length);
  });

  it("gives the same outcome for random mutations of real headers", () => {
    fc.assert(
      fc.property(mutatedHeader(VALID, PIECES, 4), ([rule, s]) => {
        expect(shape(outcome(patched, rule, s))).toEqual(shape(outcome(pristine, rule, s)));
      }),
      { numRuns: 3000, seed: 14 },
    );
  });
});
