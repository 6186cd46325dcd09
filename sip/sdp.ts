/**
 * The SDP of a plain audio call (RFC 4566; offer/answer per RFC 3264),
 * parsed and written with sdp-transform.
 *
 * - Our offer: one `m=audio` stream of RTP/AVP with PCMU, PCMA and
 *   telephone-event (RFC 4733), `a=ptime:20`.
 * - Their offer: every `m=` line is read. The first usable audio stream
 *   (RTP/AVP, a port, a codec we speak) is the call's; our answer mirrors
 *   every offered `m=` line in order (RFC 3264 §6) and refuses each other
 *   one — video, a second audio stream, an unknown transport — with port 0
 *   and its format list kept.
 * - Direction: `a=sendrecv/sendonly/recvonly/inactive` of the stream, else
 *   of the session (RFC 4566 §6: a session-level attribute applies to every
 *   stream that does not say otherwise), else sendrecv.
 * - `a=ptime`: what the writer of the SDP wants to receive (RFC 4566 §6), so
 *   theirs is the packet time we send (10–60 ms in 10 ms steps; 20 ms when
 *   absent, RFC 3551 §4.5). We receive any packet time.
 *
 * Parsing never throws; what it cannot use it leaves out.
 */
import { type MediaDescription, parse, type SessionDescription, write } from "sdp-transform";
import type { MediaDirection } from "../audio/rtp-session.ts";

export interface SdpCodec {
  payloadType: number;
  /** Lower case encoding name: "pcmu", "pcma", "telephone-event", … */
  name: string;
  rate: number;
}

/** One offered `m=` line as the answer must mirror it (RFC 3264 §6). */
export interface OfferedStream {
  type: string;
  port: number;
  protocol: string;
  /** The format list as offered (kept in a refusal). */
  formats: string;
}

export interface AudioDescription {
  address: string;
  port: number;
  codecs: SdpCodec[];
  telephoneEventPt?: number;
  direction: MediaDirection;
  /** `a=ptime` as written (ms), if any: see packetTime(). */
  ptime?: number;
  /** Which of `streams` this audio stream is. */
  index: number;
  /** Every `m=` line of the description, in order. */
  streams: OfferedStream[];
}

/** RFC 3551 §6 static payload types that deskphone speaks. */
export const STATIC: Record<number, SdpCodec> = {
  0: { payloadType: 0, name: "pcmu", rate: 8000 },
  8: { payloadType: 8, name: "pcma", rate: 8000 },
};

/** The codecs deskphone speaks, when the caller does not narrow them. */
const SPOKEN = ["pcmu", "pcma"] as const;

const DIRECTIONS: readonly MediaDirection[] = ["sendrecv", "sendonly", "recvonly", "inactive"];

/**
 * The packet time to send for a far end's `a=ptime` (RFC 4566 §6): 10–60 ms
 * in steps of 10 (the nearest one), 20 ms when it says nothing (RFC 3551 §4.5).
 */
export function packetTime(ptime: number | undefined): number {
  if (ptime === undefined || !Number.isFinite(ptime) || ptime <= 0) return 20;
  return Math.min(60, Math.max(10, Math.round(ptime / 10) * 10));
}

function direction(d: unknown, fallback: MediaDirection): MediaDirection {
  return DIRECTIONS.find((x) => x === d) ?? fallback;
}

function formatsOf(m: MediaDescription): number[] {
  return String(m.payloads ?? "")
    .split(/\s+/)
    .filter((f) => /^\d+$/.test(f))
    .map(Number)
    .filter((n) => n < 128);
}

function codecsOf(m: MediaDescription): { codecs: SdpCodec[]; telephoneEventPt?: number } {
  const codecs: SdpCodec[] = [];
  let telephoneEventPt: number | undefined;
  for (const pt of formatsOf(m)) {
    const map = (m.rtp ?? []).find((r) => r.payload === pt);
    // A static type needs no rtpmap (RFC 4566 §6, RFC 3551 §6).
    const c: SdpCodec | undefined = map
      ? { payloadType: pt, name: map.codec.toLowerCase(), rate: Number(map.rate) }
      : STATIC[pt];
    if (!c) continue;
    if (c.name === "telephone-event" && c.rate === 8000) telephoneEventPt ??= pt;
    else if (c.name !== "telephone-event") codecs.push(c);
  }
  return { codecs, ...(telephoneEventPt !== undefined && { telephoneEventPt }) };
}

function isRtpAudio(m: MediaDescription): boolean {
  return m.type === "audio" && /^RTP\/AVP$/i.test(m.protocol ?? "");
}

/**
 * The call's audio stream of a description: the first RTP/AVP audio stream
 * with a port and a codec of `ours`; else the first with a port (no common
 * codec: the caller answers 488); else the first with port 0 (a stream being
 * removed, RFC 3264 §8.2). Undefined when there is none, or no address.
 */
export function parseSdp(
  text: string,
  ours: readonly string[] = SPOKEN,
): AudioDescription | undefined {
  if (typeof text !== "string" || text.length > 16_384) return undefined;
  let session: SessionDescription;
  try {
    session = parse(text);
  } catch {
    return undefined;
  }
  const media = Array.isArray(session.media) ? session.media : [];
  const streams: OfferedStream[] = media.map((m) => ({
    type: String(m.type ?? ""),
    port: Number(m.port),
    protocol: String(m.protocol ?? ""),
    formats: String(m.payloads ?? ""),
  }));
  const audio = media
    .map((m, index) => ({ m, index, ...codecsOf(m) }))
    .filter((a) => isRtpAudio(a.m));
  const chosen =
    audio.find((a) => a.m.port > 0 && commonCodec(a.codecs, ours)) ??
    audio.find((a) => a.m.port > 0) ??
    audio[0];
  if (!chosen) return undefined;
  const { m, index, codecs, telephoneEventPt } = chosen;
  const address = (m.connection?.ip ?? session.connection?.ip ?? "").split("/")[0] ?? "";
  const port = Number(m.port);
  if (!address || !Number.isInteger(port) || port < 0 || port > 65535) return undefined;
  const ptime = m.ptime ?? (session as { ptime?: number }).ptime;
  return {
    address,
    port,
    codecs,
    ...(telephoneEventPt !== undefined && { telephoneEventPt }),
    direction: direction(m.direction, direction(session.direction, "sendrecv")),
    ...(typeof ptime === "number" && Number.isFinite(ptime) && { ptime }),
    index,
    streams,
  };
}

/** The first codec of `theirs` (their preference order) that we speak. */
export function commonCodec(
  theirs: readonly SdpCodec[],
  ours: readonly string[],
): SdpCodec | undefined {
  return theirs.find((c) => c.rate === 8000 && ours.includes(c.name));
}

/** RFC 3264 §6.1: the answer's direction for an offered one. */
export function answerDirection(offered: MediaDirection, wantHold: boolean): MediaDirection {
  const table: Record<MediaDirection, MediaDirection> = {
    sendrecv: wantHold ? "sendonly" : "sendrecv",
    sendonly: wantHold ? "inactive" : "recvonly",
    recvonly: wantHold ? "sendonly" : "sendrecv",
    inactive: "inactive",
  };
  if (offered === "recvonly") return "sendonly";
  return table[offered];
}

export interface BuildSdp {
  sessionId: string;
  version: number;
  address: string;
  port: number;
  codecs: readonly SdpCodec[];
  telephoneEventPt?: number;
  direction: MediaDirection;
}

/** Our audio stream: the codecs, telephone-event, `a=ptime:20` (what we want to receive) and the direction. */
function audioStream(o: BuildSdp, port: number): MediaDescription {
  const te = o.telephoneEventPt;
  const pts = [...o.codecs.map((c) => c.payloadType), ...(te !== undefined ? [te] : [])];
  return {
    type: "audio",
    port,
    protocol: "RTP/AVP",
    payloads: pts.join(" "),
    rtp: [
      ...o.codecs.map((c) => ({
        payload: c.payloadType,
        codec: c.name.toUpperCase(),
        rate: c.rate,
      })),
      ...(te !== undefined ? [{ payload: te, codec: "telephone-event", rate: 8000 }] : []),
    ],
    fmtp: te !== undefined ? [{ payload: te, config: "0-16" }] : [],
    ptime: 20,
    direction: o.direction,
  };
}

function session(o: BuildSdp, media: MediaDescription[]): string {
  const ipVer = o.address.includes(":") ? 6 : 4;
  return write({
    version: 0,
    origin: {
      username: "deskphone",
      sessionId: o.sessionId,
      sessionVersion: o.version,
      netType: "IN",
      ipVer,
      address: o.address,
    },
    name: "deskphone",
    connection: { version: ipVer, ip: o.address },
    timing: { start: 0, stop: 0 },
    media,
  });
}

/** Our offer: one audio stream. */
export function buildSdp(o: BuildSdp): string {
  return session(o, [audioStream(o, o.port)]);
}

/**
 * Our answer to `offer` (RFC 3264 §6): one `m=` line for each offered one,
 * in order. The offer's audio stream (`offer.index`) carries `o` (port 0 if
 * it was offered with port 0); every other stream is refused with port 0,
 * its transport and format list as offered.
 */
export function buildAnswer(offer: AudioDescription, o: BuildSdp): string {
  const media = offer.streams.map(
    (s, i): MediaDescription =>
      i === offer.index
        ? audioStream(o, offer.port === 0 ? 0 : o.port)
        : {
            type: s.type,
            port: 0,
            protocol: s.protocol,
            payloads: s.formats || "0",
            rtp: [],
            fmtp: [],
          },
  );
  return session(o, media);
}
