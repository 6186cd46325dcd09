/**
 * The phone's own account of a preemption's hand-over, in one log line: an
 * incoming call (an emergency) ended the call in progress and was put
 * through at once. From the INVITE's arrival on the exchange connection to
 * the preempted call's BYE sent, our 200 OK sent, the preempted call's media
 * thread letting go of the earpiece and microphone, the new call's thread
 * opening them, its first RTP packet with the microphone in it, the caller's
 * first RTP packet, its first frame to the earpiece and the first with the
 * caller's voice in it
 * (docs/audio.md, "Handing the devices over between calls"). All on the
 * phone's monotonic clock; written `REPORT_AFTER_MS` after the INVITE, or once
 * all of it has happened when that takes longer (a loaded machine) — at most
 * `REPORT_BY_MS` after the INVITE, saying what had not happened by then.
 */

import type { CallMedia } from "../../audio/call-media.ts";
import { CallMediaThread } from "../../audio/call-media-thread.ts";
import type { CallWireTimes } from "../../sip/call-wire-times.ts";
import type { PhoneAgent } from "../../sip/phone-agent.ts";
import { UA_PREEMPTION } from "../controller/call.ts";
import type { Effect } from "../controller/effects.ts";
import type { PhoneEvent } from "../controller/events.ts";
import type { Log } from "./log.ts";
import { monotonicMs } from "./monotonic.ts";

export const REPORT_AFTER_MS = 2000;
export const REPORT_BY_MS = 15_000;

interface HandOver {
  callId: string;
  className: string;
  ended: string[];
  /** The controller's event time: the INVITE's arrival when the wire time is missing. */
  at: number;
  invite: CallWireTimes;
  byes: CallWireTimes[];
  media?: CallMedia;
  timer: NodeJS.Timeout;
}

export class HandOverReport {
  private readonly open = new Map<string, HandOver>();

  constructor(
    private readonly agent: PhoneAgent,
    private readonly log: Log,
    /** When the last call's media thread had let go of the devices for this one (monotonic ms). */
    private readonly releasedFor: (media: CallMediaThread) => number | undefined,
    private readonly afterMs = REPORT_AFTER_MS,
  ) {
    agent.on("media", (callId, media) => {
      const h = this.open.get(callId);
      if (h) h.media = media;
    });
  }

  /** Each controller step: a preemption starts a report. */
  saw(ev: PhoneEvent, fx: Effect[]): void {
    if (ev.type !== "incoming") return;
    if (!fx.some((e) => e.type === "answer" && e.callId === ev.callId)) return;
    const ended = fx.flatMap((e) =>
      e.type === "end-call" && e.reason === UA_PREEMPTION ? [e.callId] : [],
    );
    if (ended.length === 0) return;
    const timer = setTimeout(() => this.report(ev.callId), this.afterMs);
    this.open.set(ev.callId, {
      callId: ev.callId,
      className: ev.alert.alertClass.name,
      ended,
      at: ev.at,
      // Taken now, while both calls are the agent's; filled in as the messages go out.
      invite: this.agent.wireTimes(ev.callId),
      byes: ended.map((id) => this.agent.wireTimes(id)),
      timer,
    });
  }

  stop(): void {
    for (const h of this.open.values()) clearTimeout(h.timer);
    this.open.clear();
  }

  private report(callId: string): void {
    const h = this.open.get(callId);
    if (!h) return;
    const from = h.invite.inviteAt ?? h.at;
    const byes = h.byes.map((b) => b.byeSentAt);
    const bye = byes.some((b) => b === undefined) ? undefined : Math.max(...(byes as number[]));
    const media = h.media ?? this.agent.media(callId);
    const s = media instanceof CallMediaThread ? media.started() : undefined;
    const waited = monotonicMs() - from;
    const pending =
      bye === undefined ||
      h.invite.okSentAt === undefined ||
      !media ||
      (s !== undefined &&
        [s.micOpen, s.earOpen, s.firstMicSent, s.firstReceived, s.firstEar, s.firstHeard].some(
          (t) => t === undefined,
        ));
    if (pending && waited < REPORT_BY_MS) {
      h.timer = setTimeout(() => this.report(callId), 1000);
      return;
    }
    this.open.delete(callId);
    const ms = (t: number | undefined) =>
      t === undefined ? `not by ${waited.toFixed(0)} ms` : `${(t - from).toFixed(1)} ms`;
    const parts = [`BYE sent ${ms(bye)}`, `200 OK sent ${ms(h.invite.okSentAt)}`];
    if (s && media instanceof CallMediaThread) {
      parts.push(
        `the last call's thread let go of the devices ${ms(this.releasedFor(media))}`,
        `microphone open ${ms(s.micOpen)}`,
        `earpiece open ${ms(s.earOpen)}`,
        `first RTP with the microphone sent ${ms(s.firstMicSent)}`,
        `the caller's first RTP received ${ms(s.firstReceived)}`,
        `first frame to the earpiece ${ms(s.firstEar)}`,
        `the caller first on the earpiece ${ms(s.firstHeard)}`,
      );
    } else {
      parts.push(media ? "call media in JavaScript (no thread times)" : "no call media");
    }
    this.log(
      "info",
      `preemption hand-over: ${h.className} call ${callId} took over from ${h.ended.join(", ")}; ` +
        `from its INVITE's arrival${h.invite.inviteAt === undefined ? " (not seen on the wire: from its event)" : ""} ` +
        `(${(from / 1000).toFixed(4)} s on the monotonic clock): ${parts.join(", ")}`,
    );
  }
}
