/**
 * Alert-Info parsing (RFC 3261 §20.4; RFC 7462 URNs), lenient about the
 * dialects real exchanges send. Never throws; bounded in size and count.
 *
 *   Alert-Info = "Alert-Info" HCOLON alert-param *(COMMA alert-param)
 *   alert-param = LAQUOT absoluteURI RAQUOT *( SEMI generic-param )
 *
 * Seen in the field and accepted too: bare tokens (`Bellcore-dr3`, `ring2`,
 * `Auto Answer`), a bare `info=...` parameter, Snom's `;x-line-id=0`, Cisco's
 * `<file://Bellcore-dr2>`, and `<sip:...>` URIs.
 */

/** One value of an Alert-Info header, normalised for matching (lower case). */
export interface AlertInfoValue {
  /** The value as received (trimmed, possibly truncated). */
  raw: string;
  /** The URI between angle brackets (or a bare URI), lower case. */
  uri?: string;
  /** An RFC 7462 `urn:alert:` URN, lower case. */
  urn?: string;
  /** What a phone would name the ring: the bare token or the URI's last path segment. */
  token?: string;
  /** The `info=` parameter (Yealink, Snom, Grandstream, Polycom match on it). */
  info?: string;
  /** Every parameter, names and values in lower case. */
  params: Record<string, string>;
}

/** Limits that keep a hostile header from costing time or memory. */
export const ALERT_INFO_LIMITS = {
  /** Characters read from all header lines together. */
  totalChars: 16_384,
  /** Values kept (RFC 3261 puts no limit; real exchanges send one to three). */
  values: 16,
  /** Characters kept of one value. */
  valueChars: 512,
  /** Parameters kept of one value. */
  params: 8,
};

/** Splits on commas that are outside <...> and "..." (RFC 3261 §7.3.1). */
function splitValues(text: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === "\\") i++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "<") depth++;
    else if (c === ">" && depth > 0) depth--;
    else if (c === "," && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
      if (out.length >= ALERT_INFO_LIMITS.values) return out;
    }
  }
  out.push(text.slice(start));
  return out;
}

function unquote(v: string): string {
  const t = v.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"')
    ? t.slice(1, -1).replace(/\\(.)/g, "$1")
    : t;
}

function parseParams(text: string, into: Record<string, string>): void {
  let n = 0;
  for (const part of text.split(";")) {
    const p = part.trim();
    if (!p) continue;
    if (++n > ALERT_INFO_LIMITS.params) break;
    const eq = p.indexOf("=");
    const name = (eq < 0 ? p : p.slice(0, eq)).trim().toLowerCase();
    if (name) into[name] = eq < 0 ? "" : unquote(p.slice(eq + 1)).toLowerCase();
  }
}

/** The last non-empty path segment of a URI, without query or fragment. */
function lastSegment(uri: string): string | undefined {
  const noScheme = uri.replace(/^[a-z][a-z0-9+.-]*:(\/\/)?/, "");
  const path = noScheme.split(/[?#]/)[0] ?? "";
  const segs = path.split("/").filter(Boolean);
  // A URI with only a host (http://www.notused) names no ring.
  if (segs.length < 2 && /^https?:/.test(uri)) return undefined;
  const seg = segs.at(-1);
  return seg ? safeDecode(seg) : undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

const collapse = (s: string) => s.trim().replace(/\s+/g, " ").toLowerCase();

function parseValue(rawValue: string): AlertInfoValue | undefined {
  const raw = rawValue.trim().slice(0, ALERT_INFO_LIMITS.valueChars);
  if (!raw) return undefined;
  const v: AlertInfoValue = { raw, params: {} };
  let rest: string;
  if (raw.startsWith("<")) {
    const close = raw.indexOf(">");
    const uri = collapse(close < 0 ? raw.slice(1) : raw.slice(1, close)).replace(/ /g, "");
    rest = close < 0 ? "" : raw.slice(close + 1);
    if (uri) v.uri = uri;
  } else {
    const semi = raw.indexOf(";");
    const head = semi < 0 ? raw : raw.slice(0, semi);
    rest = semi < 0 ? "" : raw.slice(semi);
    if (head.includes("=")) {
      rest = raw; // a bare parameter such as `info=alert-autoanswer`
    } else if (/^[a-z][a-z0-9+.-]*:/i.test(head.trim()) && !/\s/.test(head.trim())) {
      v.uri = head.trim().toLowerCase();
    } else if (head.trim()) {
      v.token = collapse(head);
    }
  }
  parseParams(rest, v.params);
  if (v.uri?.startsWith("urn:alert:")) v.urn = v.uri;
  else if (v.uri && !v.token) {
    const seg = lastSegment(v.uri);
    if (seg) v.token = collapse(seg);
  }
  if (v.params.info !== undefined && v.params.info !== "") v.info = collapse(v.params.info);
  if (!v.uri && !v.token && Object.keys(v.params).length === 0) return undefined;
  return v;
}

/**
 * Parses every Alert-Info header line of a request (as sip.js returns them,
 * one string per line, not split on commas) into values, in order.
 */
export function parseAlertInfo(lines: readonly string[] | string | undefined): AlertInfoValue[] {
  const list = typeof lines === "string" ? [lines] : (lines ?? []);
  const out: AlertInfoValue[] = [];
  let budget = ALERT_INFO_LIMITS.totalChars;
  for (const line of list) {
    if (typeof line !== "string" || budget <= 0) break;
    const text = line.slice(0, budget);
    budget -= text.length;
    for (const part of splitValues(text)) {
      const v = parseValue(part);
      if (v) out.push(v);
      if (out.length >= ALERT_INFO_LIMITS.values) return out;
    }
  }
  return out;
}

/**
 * Whether a value matches a pattern from an alert rule. Patterns are compared
 * without case against the token, the `info=` text, the URI and the URN; a
 * URN pattern also matches more specific URNs (RFC 7462 §4: indications are
 * hierarchical, `urn:alert:service:recall` covers `...:recall:callback`).
 */
export function alertInfoMatches(value: AlertInfoValue, pattern: string): boolean {
  const p = collapse(pattern);
  if (!p) return false;
  if (value.token === p || value.info === p || value.uri === p) return true;
  if (value.urn && p.startsWith("urn:alert:")) return value.urn.startsWith(`${p}:`);
  return false;
}
