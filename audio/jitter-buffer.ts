/**
 * An adaptive jitter buffer for 20 ms frames, read once per frame time by the
 * playback side (pull model).
 *
 * - Playout starts once the target delay is buffered; the target adapts
 *   between `minMs` and `maxMs` to the interarrival jitter (RFC 3550 §6.4.1,
 *   A.8): target = frame + 3·jitter, raised a frame after each underrun.
 * - Reordered packets are put back in sequence; a packet whose turn has
 *   passed is counted late and dropped.
 * - A missing frame is concealed by repeating the last one, 6 dB quieter each
 *   time, for up to `concealMs`; after that the buffer plays silence and
 *   re-buffers.
 * - If more than the target plus two frames piles up, the oldest frame is
 *   dropped so delay does not grow (ITU-T G.114: one-way delay < 150 ms).
 */
import { seqDelta } from "./rtp-packet.ts";

export interface JitterBufferOptions {
  frameMs?: number;
  minMs?: number;
  maxMs?: number;
  concealMs?: number;
  samples?: number;
}

export interface JitterStats {
  received: number;
  played: number;
  concealed: number;
  late: number;
  dropped: number;
  underruns: number;
  /** Interarrival jitter, ms (RFC 3550 A.8). */
  jitterMs: number;
  targetMs: number;
}

export class JitterBuffer {
  private readonly frames = new Map<number, Int16Array>();
  private nextSeq: number | undefined;
  private playing = false;
  private last: Int16Array | undefined;
  private concealedRun = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private targetFrames: number;
  private readonly frameMs: number;
  private readonly minFrames: number;
  private readonly maxFrames: number;
  private readonly concealFrames: number;
  readonly stats: JitterStats;

  constructor(o: JitterBufferOptions = {}) {
    this.frameMs = o.frameMs ?? 20;
    this.minFrames = Math.max(1, Math.round((o.minMs ?? 40) / this.frameMs));
    this.maxFrames = Math.max(this.minFrames, Math.round((o.maxMs ?? 80) / this.frameMs));
    this.concealFrames = Math.round((o.concealMs ?? 60) / this.frameMs);
    this.targetFrames = this.minFrames;
    this.stats = {
      received: 0,
      played: 0,
      concealed: 0,
      late: 0,
      dropped: 0,
      underruns: 0,
      jitterMs: 0,
      targetMs: this.targetFrames * this.frameMs,
    };
  }

  /** A decoded frame arrived. `timestampMs` is its RTP timestamp in ms; `arrivalMs` local time. */
  push(seq: number, frame: Int16Array, timestampMs: number, arrivalMs: number): void {
    this.stats.received++;
    // RFC 3550 A.8: J += (|D| - J) / 16, D the change in transit time.
    const transit = arrivalMs - timestampMs;
    if (this.lastTransit !== undefined) {
      this.jitter += (Math.abs(transit - this.lastTransit) - this.jitter) / 16;
      this.stats.jitterMs = this.jitter;
    }
    this.lastTransit = transit;
    if (this.nextSeq !== undefined && this.playing && seqDelta(this.nextSeq, seq) < 0) {
      this.stats.late++;
      return;
    }
    if (this.nextSeq === undefined || seqDelta(this.nextSeq, seq) < 0) this.nextSeq = seq;
    this.frames.set(seq, frame);
    this.adapt();
  }

  private adapt(): void {
    const wanted = Math.ceil((this.frameMs + 3 * this.jitter) / this.frameMs);
    this.targetFrames = Math.min(
      this.maxFrames,
      Math.max(this.minFrames, wanted, this.targetFrames),
    );
    this.stats.targetMs = this.targetFrames * this.frameMs;
    while (this.playing && this.frames.size > this.targetFrames + 2 && this.nextSeq !== undefined) {
      this.frames.delete(this.nextSeq);
      this.nextSeq = (this.nextSeq + 1) & 0xffff;
      this.stats.dropped++;
    }
  }

  /** Fills `out` with the next frame (or concealment, or silence). Always returns true. */
  read(out: Int16Array): boolean {
    if (!this.playing) {
      if (this.frames.size >= this.targetFrames) this.playing = true;
      else {
        out.fill(0);
        return true;
      }
    }
    const seq = this.nextSeq as number;
    const frame = this.frames.get(seq);
    this.nextSeq = (seq + 1) & 0xffff;
    if (frame) {
      this.frames.delete(seq);
      out.set(frame.subarray(0, out.length));
      if (frame.length < out.length) out.fill(0, frame.length);
      this.last = frame;
      this.concealedRun = 0;
      this.stats.played++;
      return true;
    }
    if (this.last && this.concealedRun < this.concealFrames) {
      this.concealedRun++;
      const gain = 0.5 ** this.concealedRun;
      for (let i = 0; i < out.length; i++)
        out[i] = Math.round(((this.last[i] as number) ?? 0) * gain);
      this.stats.concealed++;
      return true;
    }
    // Concealment used up. Later frames waiting: go on from the earliest.
    const next = [...this.frames.keys()].sort((x, y) => seqDelta(y, x))[0];
    if (next !== undefined) {
      this.nextSeq = next;
      this.concealedRun = 0;
      return this.read(out);
    }
    // Nothing at all: silence, and wait for the target again with a frame more of margin.
    out.fill(0);
    this.playing = false;
    this.last = undefined;
    this.nextSeq = undefined;
    this.stats.underruns++;
    this.targetFrames = Math.min(this.maxFrames, this.targetFrames + 1);
    this.stats.targetMs = this.targetFrames * this.frameMs;
    return true;
  }
}
