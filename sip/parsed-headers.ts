/**
 * What sip.js's grammar made of a header value, remembered. sip.js parses
 * every header it reads with its generated grammar (`Grammar.parse(value,
 * rule)`): 10–200 µs a header on this class of machine even with its tables
 * built once (scripts/patch-sipjs.mjs), most of an INVITE's time before the
 * phone can ring. An exchange sends the same values again and again: its
 * Record-Route, the To of this phone, a caller's Contact, the start line, and
 * its own Via and the caller's From but for a fresh branch and tag.
 *
 * So `Grammar.parse` is wrapped: a value parsed before (by rule) is handed out
 * as a fresh deep copy of what the grammar returned — the same classes (URI,
 * NameAddrHeader), the same fields, never shared, so whatever sip.js does to
 * it touches nothing kept. A value refused before is refused again (-1). The
 * branch of a Via (RFC 3261 §8.1.1.7) and the tag of a From or To (§19.3)
 * are tokens (§25.1) that change with every request: the value is remembered
 * with the token set aside, and the copy gets the request's own. Only a
 * value whose one `branch`/`tag` is a plain token ends the value (or, for the
 * branch, a parameter) is taken apart that way; anything else — two of them,
 * a Via list, an unusual character — is remembered whole or parsed as it is.
 * A Call-ID is new with every call: a plain one (word@word) is the value itself.
 * Bounded: the `KEPT` most recently used values of at most `LONGEST` characters.
 * A value not remembered yet is parsed by the grammar — unless it is the
 * plainest From, To or Contact (`plainNameAddr`): a new caller's, whose
 * grammar parse is most of an INVITE's parsing (about 0.1 ms each on this
 * machine, against a few µs made directly).
 *
 * test/sip/parsed-headers.test.ts checks it against the grammar itself, on real
 * and malformed headers, random mutations of them and random plain name-addrs.
 */
import { Grammar, NameAddrHeader, URI } from "sip.js";

const KEPT = 256;
const LONGEST = 256;

/** A §25.1 token, narrowed to its plainest characters (what a tag or branch is in practice). */
const PLAIN_TOKEN = "[A-Za-z0-9.!*_+~-]+";
const TAG_AT_END = new RegExp(`;tag=(${PLAIN_TOKEN})$`);
const BRANCH = new RegExp(`;branch=(${PLAIN_TOKEN})(?=;|$)`);
/** Kamailio's rr module puts the From tag in its Record-Route URI (`;ftag=`): new with every call. */
const FTAG = new RegExp(`;ftag=(${PLAIN_TOKEN})(?=[;>])`);
/**
 * A Call-ID (RFC 3261 §25.1: callid = word [ "@" word ]) in the plainest of the
 * word characters: new with every call, so never worth remembering; for such a
 * value the grammar's Call_ID rule returns the value itself.
 */
const PLAIN_CALL_ID = /^[A-Za-z0-9.!%*_+~-]+(?:@[A-Za-z0-9.!%*_+~-]+)?$/;
/** What the token is replaced by in the value remembered. */
const SET_ASIDE = "0";

type Parse = (input: string, startRule: string) => unknown;

/**
 * The plainest name-addr (RFC 3261 §20.10, §20.20, §20.39, §25.1): an optional
 * display name (one token, or a quoted string of letters, digits, spaces and
 * `._-`), `<sip:user@host[:port]>` with a plain user, a lower-case host name
 * (its top label starting with a letter) or an IPv4 address, and for From and
 * To no parameter but a plain `tag`. What a caller sends most often; anything
 * else goes to the grammar.
 */
const LABEL = "[a-z0-9](?:[a-z0-9-]*[a-z0-9])?";
const TOP_LABEL = "[a-z](?:[a-z0-9-]*[a-z0-9])?";
const OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])";
const PLAIN_NAME_ADDR = new RegExp(
  `^(?:"([A-Za-z0-9 ._-]*)" ?|([A-Za-z0-9._-]+) )?<sip:([A-Za-z0-9._-]+)@((?:${LABEL}\\.)*${TOP_LABEL}|${OCTET}(?:\\.${OCTET}){3})(?::([1-9][0-9]{0,4}))?>(?:;tag=(${PLAIN_TOKEN}))?$`,
);

/**
 * What the grammar makes of a plainest name-addr (above), made without it: a
 * `NameAddrHeader` (with its `URI`) for From and To, for Contact the grammar's
 * list of one `{position, offset, parsed}`; undefined for any other value.
 * test/sip/parsed-headers.test.ts checks it against the grammar.
 */
export function plainNameAddr(input: string, rule: string): unknown {
  const contact = rule === "Contact";
  if (!contact && rule !== "From" && rule !== "To") return undefined;
  const m = PLAIN_NAME_ADDR.exec(input);
  if (!m || (contact && m[6] !== undefined)) return undefined;
  const [, quoted, token, user, host, port, tag] = m as unknown as (string | undefined)[];
  // The grammar's own calls: a port as a number, no display name as undefined, no parameters.
  const uri = new URI("sip", user as string, host as string, port ? Number(port) : undefined);
  const header = new NameAddrHeader(
    uri,
    (quoted ?? token) as string,
    undefined as unknown as Record<string, string>,
  );
  if (tag) header.setParam("tag", tag);
  return contact ? [{ position: input.length, offset: 0, parsed: header }] : header;
}

/** The varying token of a value and where it goes in the result, if it has one. */
interface Varying {
  key: string;
  token: string;
  /** Puts the token in a copy of the result; false when the result is not of the shape expected. */
  put(result: unknown, token: string): boolean;
}

function occurrences(text: string, word: string): number {
  return text.toLowerCase().split(word).length - 1;
}

function varyingToken(input: string, rule: string): Varying | undefined {
  if (rule === "From" || rule === "To") {
    const m = TAG_AT_END.exec(input);
    if (!m || occurrences(input, "tag") !== 1) return undefined;
    return {
      key: `${input.slice(0, m.index)};tag=${SET_ASIDE}`,
      token: m[1] as string,
      // The grammar's From/To action: NameAddrHeader#setParam("tag", tag), a string.
      put: (r, t) => {
        (r as { parameters: Record<string, string> }).parameters.tag = t;
        return true;
      },
    };
  }
  if (rule === "Via") {
    const m = BRANCH.exec(input);
    if (!m || occurrences(input, "branch") !== 1 || input.includes(",")) return undefined;
    const end = m.index + m[0].length;
    return {
      key: `${input.slice(0, m.index)};branch=${SET_ASIDE}${input.slice(end)}`,
      token: m[1] as string,
      // The grammar's Via action: data.branch = the token as written.
      put: (r, t) => {
        (r as { branch: string }).branch = t;
        return true;
      },
    };
  }
  if (rule === "Record_Route") {
    // One route (no list) whose URI has one plain ftag: the grammar's list of one
    // {position, offset, parsed}, its URI's `ftag` parameter the token as written.
    const m = FTAG.exec(input);
    if (!m || occurrences(input, "ftag") !== 1 || input.includes(",")) return undefined;
    const end = m.index + m[0].length;
    return {
      key: `${input.slice(0, m.index)};ftag=${SET_ASIDE}${input.slice(end)}`,
      token: m[1] as string,
      put: (r, t) => {
        const routes = r as { position: number; parsed?: { uri?: { parameters?: object } } }[];
        const params = routes[0]?.parsed?.uri?.parameters as Record<string, string> | undefined;
        if (routes.length !== 1 || params?.ftag !== SET_ASIDE) return false;
        params.ftag = t;
        // The route ends after the token: its end moves with the token's length.
        (routes[0] as { position: number }).position += t.length - SET_ASIDE.length;
        return true;
      },
    };
  }
  return undefined;
}

/** A deep copy keeping each object's class (its prototype); the grammar's results are plain data. */
function copy<T>(v: T): T {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(copy) as T;
  const o = Object.create(Object.getPrototypeOf(v)) as Record<string, unknown>;
  for (const k of Object.keys(v)) o[k] = copy((v as Record<string, unknown>)[k]);
  return o as T;
}

export class ParsedHeaders {
  private readonly kept = new Map<string, unknown>();
  hits = 0;
  misses = 0;

  constructor(private readonly grammar: Parse) {}

  parse(input: string, rule: string): unknown {
    if (typeof input !== "string" || input.length > LONGEST) return this.grammar(input, rule);
    if (rule === "Call_ID" && PLAIN_CALL_ID.test(input)) return input;
    const varying = varyingToken(input, rule);
    const key = `${rule}\n${varying ? varying.key : input}`;
    let result = this.kept.get(key);
    if (result === undefined) {
      this.misses += 1;
      const value = varying ? varying.key : input;
      result = plainNameAddr(value, rule) ?? this.grammar(value, rule);
      if (result === undefined) return result;
    } else {
      this.hits += 1;
      this.kept.delete(key);
    }
    this.kept.set(key, result);
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value as string);
    if (result === -1) return -1;
    const out = copy(result);
    if (varying && !varying.put(out, varying.token)) return this.grammar(input, rule);
    return out;
  }
}

let installed: ParsedHeaders | undefined;

/** Wraps sip.js's `Grammar.parse` (once per process); returns the wrapper for its counts. */
export function rememberParsedHeaders(): ParsedHeaders {
  if (installed) return installed;
  const grammar = Grammar.parse.bind(Grammar) as Parse;
  const remembered = new ParsedHeaders(grammar);
  (Grammar as { parse: Parse }).parse = (input, rule) => remembered.parse(input, rule);
  installed = remembered;
  return remembered;
}
