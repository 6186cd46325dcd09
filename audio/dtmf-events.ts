/**
 * DTMF as RFC 4733 telephone-events, for any session that can send an RTP
 * packet: a digit is packets every 20 ms sharing one timestamp with a
 * growing duration, the first marked, the end packet sent three times
 * (§2.5.1.4); digits queue one after another. Received events are reported
 * once per event (the end packet's timestamp), whatever the retransmissions.
 */
import { decodeTelephoneEvent, encodeTelephoneEvent } from "./telephone-event.ts";

export interface EventPacketSink {
  /** The session's current RTP timestamp. */
  timestamp(): number;
  /** Moves the session's timestamp on to at least `ts`. */
  skipTimestamp(ts: number): void;
  send(payloadType: number, payload: Uint8Array, marker: boolean, timestamp: number): void;
}

const RATE = 8000;
const FRAME = 160;
const FRAME_MS = 20;

export class DtmfSender {
  private busy = Promise.resolve();

  constructor(private readonly sink: EventPacketSink) {}

  send(payloadType: number, digit: string, durationMs = 100): Promise<void> {
    try {
      encodeTelephoneEvent({ digit, end: false, volume: 10, duration: 0 }); // validates the digit
    } catch (e) {
      return Promise.reject(e);
    }
    this.busy = this.busy.then(
      () =>
        new Promise<void>((resolve) => {
          const timestamp = this.sink.timestamp();
          const total = Math.round((durationMs * RATE) / 1000);
          let duration = 0;
          let first = true;
          const tick = () => {
            duration = Math.min(total, duration + FRAME);
            const end = duration >= total;
            const payload = encodeTelephoneEvent({ digit, end, volume: 10, duration });
            for (let i = 0; i < (end ? 3 : 1); i++)
              this.sink.send(payloadType, payload, first, timestamp);
            first = false;
            if (end) {
              clearInterval(timer);
              // The next event must start later (§2.5.1.2: a new event, a new
              // timestamp), also when no audio moves the clock on.
              this.sink.skipTimestamp((timestamp + total + FRAME) >>> 0);
              resolve();
            }
          };
          const timer = setInterval(tick, FRAME_MS);
          tick();
        }),
    );
    return this.busy;
  }
}

export class DtmfReceiver {
  private lastEnded: number | undefined;

  /** The digit when this packet ends an event not reported yet. */
  accept(payload: Uint8Array, timestamp: number): string | undefined {
    const e = decodeTelephoneEvent(payload);
    if (!e?.end || this.lastEnded === timestamp) return undefined;
    this.lastEnded = timestamp;
    return e.digit;
  }
}
