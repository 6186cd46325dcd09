/**
 * The SDP of a plain audio call (RFC 4566, offer/answer per RFC 3264): one
 * `m=audio` line of RTP/AVP with PCMU, PCMA and telephone-event (RFC 4733).
 * Parsing never throws; what it cannot use it leaves out.
 */
import type { MediaDirection } from "../audio/rtp-session.ts";

export interface SdpCodec {
  payloadType: number;
  /** Lower case encoding name: "pcmu", "pcma", "telephone-event", … */
  name: string;
  rate: number;
}

export interface AudioDescription {
  address: string;
  port: number;
  codecs: SdpCodec[];
  telephoneEventPt?: number;
  direction: MediaDirection;
  ptime?: number;
}

/** RFC 3551 §6 static payload types that deskphone speaks. */
export const STATIC: Record<number, SdpCodec> = {
  0: { payloadType: 0, name: "pcmu", rate: 8000 },
  8: { payloadType: 8, name: "pcma", rate: 8000 },
};

const DIRECTIONS: readonly MediaDirection[] = ["sendrecv", "sendonly", "recvonly", "inactive"];

export function parseSdp(text: string): AudioDescription | undefined {
  if (typeof text !== "string" || text.length > 16_384) return undefined;
  const lines = text.split(/\r?\n/);
  let sessionAddress: string | undefined;
  let sessionDirection: MediaDirection = "sendrecv";
  let audio: (AudioDescription & { mediaAddress?: string }) | undefined;
  let inAudio = false;
  let otherMedia = false;
  const rtpmap = new Map<number, SdpCodec>();
  let formats: number[] = [];
  for (const raw of lines) {
    const line = raw.trim();
    const type = line[0];
    const value = line.slice(2);
    if (line[1] !== "=") continue;
    if (type === "m") {
      const [media, port, proto, ...fmts] = value.split(/\s+/);
      inAudio = media === "audio" && !audio && /^RTP\/AVP$/i.test(proto ?? "");
      otherMedia = !inAudio;
      if (inAudio) {
        formats = fmts.map(Number).filter((n) => Number.isInteger(n) && n >= 0 && n < 128);
        audio = { address: "", port: Number(port), codecs: [], direction: sessionDirection };
      }
    } else if (type === "c") {
      const address = value.split(/\s+/)[2]?.split("/")[0];
      if (!address) continue;
      if (inAudio && audio) audio.mediaAddress = address;
      else if (!audio && !otherMedia) sessionAddress = address;
    } else if (type === "a") {
      if (otherMedia && !inAudio) continue;
      const dir = DIRECTIONS.find((d) => value === d);
      if (dir) {
        if (audio && inAudio) audio.direction = dir;
        else if (!audio) sessionDirection = dir;
        continue;
      }
      const m = /^rtpmap:(\d+)\s+([^/\s]+)\/(\d+)/i.exec(value);
      if (m && inAudio)
        rtpmap.set(Number(m[1]), {
          payloadType: Number(m[1]),
          name: (m[2] ?? "").toLowerCase(),
          rate: Number(m[3]),
        });
      const p = /^ptime:(\d+)/.exec(value);
      if (p && audio && inAudio) audio.ptime = Number(p[1]);
    }
  }
  if (!audio) return undefined;
  audio.address = audio.mediaAddress ?? sessionAddress ?? "";
  delete audio.mediaAddress;
  for (const pt of formats) {
    const c = rtpmap.get(pt) ?? STATIC[pt];
    if (!c) continue;
    if (c.name === "telephone-event" && c.rate === 8000) audio.telephoneEventPt = pt;
    else audio.codecs.push(c);
  }
  if (!audio.address || !Number.isInteger(audio.port) || audio.port < 0 || audio.port > 65535)
    return undefined;
  return audio;
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

export function buildSdp(o: BuildSdp): string {
  const pts = [
    ...o.codecs.map((c) => c.payloadType),
    ...(o.telephoneEventPt !== undefined ? [o.telephoneEventPt] : []),
  ];
  const ip = o.address.includes(":") ? "IP6" : "IP4";
  const lines = [
    "v=0",
    `o=deskphone ${o.sessionId} ${o.version} IN ${ip} ${o.address}`,
    "s=deskphone",
    `c=IN ${ip} ${o.address}`,
    "t=0 0",
    `m=audio ${o.port} RTP/AVP ${pts.join(" ")}`,
    ...o.codecs.map((c) => `a=rtpmap:${c.payloadType} ${c.name.toUpperCase()}/${c.rate}`),
    ...(o.telephoneEventPt !== undefined
      ? [`a=rtpmap:${o.telephoneEventPt} telephone-event/8000`, `a=fmtp:${o.telephoneEventPt} 0-16`]
      : []),
    "a=ptime:20",
    `a=${o.direction}`,
  ];
  return `${lines.join("\r\n")}\r\n`;
}
