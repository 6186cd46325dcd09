/**
 * Header values remembered (sip/parsed-headers.ts) against sip.js's grammar
 * itself (its untouched copy, grammar.pristine.js): for every value — real
 * headers, malformed ones, random mutations, the same header again with a new
 * tag or branch — the same result (the same classes and fields) or the same
 * refusal (-1), whether parsed for the first time or remembered; and a result
 * handed out is a copy nobody else holds. The plainest name-addr, made
 * without the grammar, is the grammar's own result to the last field.
 */
import fc from "fast-check";
import { Grammar } from "sip.js";
import { describe, expect, it } from "vitest";
import { ParsedHeaders, plainNameAddr, rememberParsedHeaders } from "../../sip/parsed-headers.ts";
import { GRAMMAR_PIECES, loadGrammar, mutatedHeader, shape } from "../support/sip-grammar.ts";

const pristine = await loadGrammar("grammar.pristine.js");

/** sip.js's Grammar.parse, on the untouched grammar: the data, or -1. */
function grammar(input: string, rule: string): unknown {
  const options: { startRule: string; data?: unknown } = { startRule: rule };
  try {
    pristine(input, options);
  } catch {
    options.data = -1;
  }
  return options.data;
}

const HEADERS: [string, string][] = [
  ["Request_Response", "INVITE sip:2001@127.0.0.1;transport=ws SIP/2.0"],
  ["Request_Response", "SIP/2.0 180 Ringing"],
  ["Via", "SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKabc;rport"],
  ["Via", "SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bKabc"],
  ["Via", "SIP/2.0/UDP 10.0.0.1:5062;received=10.0.0.2;rport=5062;branch=z9hG4bK77"],
  ["Via", "SIP/2.0/WSS h.invalid;branch=z9hG4bK1;branch=z9hG4bK2"],
  ["Via", "SIP/2.0/WSS h.invalid;Branch=z9hG4bK1"],
  ["Via", "SIP/2.0/WS a.invalid;branch=z9hG4bK1, SIP/2.0/UDP b.invalid;branch=z9hG4bK2"],
  ["Via", "SIP/2.0/TCP [2001:db8::9]:5061;branch=z9hG4bK1;ttl=16;maddr=224.2.0.1"],
  ["From", '"Caller 3001" <sip:3001@127.0.0.1>;tag=4fa9'],
  ["From", "<sip:3001@127.0.0.1>;tag=abc"],
  ["From", "sip:3001@example.com;tag=x"],
  ["From", "<sip:tag@example.com>;tag=x"],
  ["From", "<sip:3001@example.com;tag=inside>"],
  ["From", "<sip:3001@example.com>;TAG=x"],
  ["From", "<sip:3001@example.com>;tag=x;foo=bar"],
  ["From", "<sip:3001@example.com> ;tag=x"],
  ["To", "<sip:2001@127.0.0.1>"],
  ["To", "<sip:2001@127.0.0.1>;tag=dp12"],
  ["Call_ID", "a84b4c76e66710@pc33.atlanta.com"],
  ["Call_ID", "0ea3f5d2-b1c4-4e7a-9f00-1d2e3f4a5b6c"],
  ["Call_ID", "x%41y!*_+~.-@h"],
  ["Call_ID", "a@b@c"],
  ["Call_ID", "@b"],
  ["Call_ID", "a@"],
  ["Call_ID", "a b"],
  ["Call_ID", '(odd)<but>:ok\\"/[]?{}@h'],
  ["CSeq", "1 INVITE"],
  ["Max_Forwards", "70"],
  ["Content_Length", "142"],
  ["Content_Type", "application/sdp"],
  ["Contact", "<sip:3001@127.0.0.1:5062>"],
  ["Contact", '"W" <sip:w@x.com>;q=0.7;expires=3600, <sip:w@y.com>;q=0.1'],
  ["Record_Route", "<sip:127.0.0.1:5060;transport=ws;r2=on;lr>, <sip:127.0.0.1;r2=on;lr>"],
  ["Record_Route", "<sip:127.0.0.1:43171;transport=ws;r2=on;lr=on;ftag=32006uac1>"],
  ["Record_Route", "<sip:127.0.0.1;lr;ftag=a.b~c>;x=1"],
  ["Record_Route", "<sip:127.0.0.1;lr>;ftag=abc"],
  ["Record_Route", "<sip:127.0.0.1;ftag=a;ftag=b;lr>"],
  // Refused by the grammar: refused again when remembered.
  ["Request_Response", "INVITE sip:2001@127.0.0.1 SIP/3.0"],
  ["Via", "SIP/2.0/WS"],
  ["Via", "SIP/2.0/WS 127.0.0.1:99999999999;branch=z9hG4bK1"],
  ["From", "<sip:3001@127.0.0.1;tag=x"],
  ["From", '"unterminated <sip:a@b>;tag=x'],
  ["To", "<>;tag=x"],
  ["CSeq", "x INVITE"],
  ["Content_Length", "-1"],
  ["Contact", "*"],
];

/** A fresh wrapper over the untouched grammar each time, so every test starts empty. */
const remembered = () => new ParsedHeaders(grammar);

describe("header values remembered", () => {
  it("gives the grammar's own result or refusal, the first time and when remembered", () => {
    const r = remembered();
    for (let round = 0; round < 3; round++) {
      for (const [rule, input] of HEADERS) {
        expect(shape(r.parse(input, rule)), `${rule}: ${input} (round ${round})`).toEqual(
          shape(grammar(input, rule)),
        );
      }
    }
    expect(r.hits).toBeGreaterThan(0);
  });

  it("gives each request its own tag and branch", () => {
    const r = remembered();
    for (const t of ["a1", "b.2", "C-3", "x!y*z_+~", "%41", "q'r", "s`t"]) {
      const from = `"Caller" <sip:3001@127.0.0.1>;tag=${t}`;
      const via = `SIP/2.0/WS 127.0.0.1:5060;branch=z9hG4bK${t};rport`;
      expect(shape(r.parse(from, "From"))).toEqual(shape(grammar(from, "From")));
      expect(shape(r.parse(via, "Via"))).toEqual(shape(grammar(via, "Via")));
    }
    // The four plain tags (and branches) shared one parse; %41, q'r and s`t were parsed whole.
    expect(r.misses).toBe(2 * (1 + 3));
    expect(r.hits).toBe(2 * 3);
  });

  it("gives each call its own ftag in the exchange's Record-Route", () => {
    const r = remembered();
    const tokens = ["32006uac1", "x", "a.b!c*d_e+f~g-h", "%41", "0"];
    for (const t of tokens) {
      for (const rr of [
        `<sip:127.0.0.1:43171;transport=ws;r2=on;lr=on;ftag=${t}>`,
        `<sip:pbx.example.com;lr;ftag=${t};did=1>`,
      ]) {
        expect(shape(r.parse(rr, "Record_Route")), rr).toEqual(shape(grammar(rr, "Record_Route")));
        expect(shape(r.parse(rr, "Record_Route")), rr).toEqual(shape(grammar(rr, "Record_Route")));
      }
    }
    // The plain ftags shared one parse of each route; %41 was parsed whole.
    expect(r.misses).toBe(2 * (1 + 1));
  });

  it("hands out copies: changing one changes nothing remembered", () => {
    const r = remembered();
    const input = "<sip:2001@127.0.0.1>;tag=one";
    const first = r.parse(input, "To") as { parameters: Record<string, string> };
    first.parameters.tag = "changed";
    first.parameters.extra = "x";
    expect(shape(r.parse(input, "To"))).toEqual(shape(grammar(input, "To")));
  });

  it("matches the grammar on random mutations, each parsed twice", () => {
    const r = remembered();
    const PIECES = [...GRAMMAR_PIECES, ",", "x", "9", "tag=", "branch="];
    fc.assert(
      fc.property(mutatedHeader(HEADERS, PIECES, 3), ([rule, s]) => {
        const want = shape(grammar(s, rule));
        expect(shape(r.parse(s, rule))).toEqual(want);
        expect(shape(r.parse(s, rule))).toEqual(want);
      }),
      { numRuns: 3000, seed: 14 },
    );
  });

  it("is what sip.js's Grammar.parse does once the phone's user agent is made", () => {
    const r = rememberParsedHeaders();
    expect(rememberParsedHeaders()).toBe(r);
    const before = r.hits;
    const input = "<sip:2001@127.0.0.1>;tag=abc";
    expect(shape(Grammar.parse(input, "To"))).toEqual(shape(grammar(input, "To")));
    expect(shape(Grammar.parse(input, "To"))).toEqual(shape(grammar(input, "To")));
    expect(r.hits).toBe(before + 1);
  });
});

describe("the plainest name-addr, made without the grammar", () => {
  const pick = (chars: string, min: number, max: number) =>
    fc.array(fc.constantFrom(...chars), { minLength: min, maxLength: max }).map((a) => a.join(""));
  const label = pick("abcxyzABC0129-", 1, 6);
  // Mostly what the plainest form takes, and some that it must leave to the grammar.
  const host = fc.oneof(
    {
      arbitrary: fc.constantFrom("127.0.0.1", "192.0.2.10", "example.com", "pbx.local", "a.b1"),
      weight: 3,
    },
    {
      arbitrary: fc.array(label, { minLength: 1, maxLength: 4 }).map((a) => a.join(".")),
      weight: 2,
    },
    {
      arbitrary: fc
        .array(fc.integer({ min: 0, max: 300 }), { minLength: 3, maxLength: 5 })
        .map((a) => a.join(".")),
      weight: 1,
    },
    { arbitrary: fc.constant("1.2.3.04"), weight: 1 },
  );
  const user = fc.oneof(
    { arbitrary: pick("abcAB019._-", 1, 8), weight: 3 },
    { arbitrary: pick("abcAB019._-+!~%", 1, 8), weight: 1 },
  );
  const port = fc.oneof(
    fc.constant(""),
    fc.integer({ min: 0, max: 99999 }).map((n) => `:${n}`),
    fc.constantFrom(":05060", ":65536", ":"),
  );
  const display = fc.oneof(
    fc.constant(""),
    pick("abcAB019._-", 1, 8).map((t) => `${t} `),
    pick("abcAB019._- ", 0, 10).map((t) => `"${t}" `),
    pick("abcAB019._- ", 0, 10).map((t) => `"${t}"`),
    pick("ab ", 1, 6).map((t) => `${t} `),
  );
  const params = fc.oneof(
    fc.constant(""),
    pick("abcXYZ019.!*_+~-", 1, 10).map((t) => `;tag=${t}`),
    fc.constantFrom(";tag=", ";TAG=x", ";tag=a;x=y", ";expires=60", " ;tag=x"),
  );
  const value = fc
    .tuple(fc.constantFrom("From", "To", "Contact"), display, user, host, port, params)
    .map(([rule, d, u, h, p, t]) => [rule, `${d}<sip:${u}@${h}${p}>${t}`] as const);

  it("is the grammar's own result, to the last field, or left to the grammar", () => {
    let made = 0;
    let left = 0;
    fc.assert(
      fc.property(value, ([rule, s]) => {
        const fast = plainNameAddr(s, rule);
        if (fast === undefined) {
          left += 1;
          return;
        }
        made += 1;
        expect(shape(fast), `${rule}: ${s}`).toStrictEqual(shape(grammar(s, rule)));
      }),
      { numRuns: 5000, seed: 14 },
    );
    // Both kinds were tried, many times each.
    expect(made).toBeGreaterThan(500);
    expect(left).toBeGreaterThan(500);
  });

  it("is made for what a caller sends most, and for no other rule", () => {
    for (const [rule, s] of [
      ["From", '"Caller 3001" <sip:3001@127.0.0.1>;tag=4fa9'],
      ["From", "sipp <sip:sipp@127.0.0.1:5061>;tag=1SIPpTag01"],
      ["To", "<sip:2001@pbx.example.com>"],
      ["Contact", "<sip:3001@127.0.0.1:5062>"],
    ] as const) {
      expect(plainNameAddr(s, rule), s).toBeDefined();
      expect(shape(plainNameAddr(s, rule))).toStrictEqual(shape(grammar(s, rule)));
    }
    expect(plainNameAddr("<sip:3001@127.0.0.1:5062>", "Record_Route")).toBeUndefined();
    expect(plainNameAddr("<sip:3001@127.0.0.1>;tag=x", "Contact")).toBeUndefined();
  });
});
