/**
 * An adaptive jitter buffer, read once per 20 ms frame by the playback side
 * (pull model), that takes packets of any packet time (`a=ptime` 10–60 ms:
 * 80 to 480 samples at 8 kHz) whole — nothing truncated, nothing padded.
 *
 * - Audio is kept in 10 ms units placed by RTP timestamp (RFC 3550 §5.1:
 *   the timestamp, not the sequence number, says where media belongs in
 *   time): a 30 ms packet fills three units, a 20 ms read takes two.
 * - Playout starts once the target delay is buffered; the target adapts
 *   between `minMs` and `maxMs` to the interarrival jitter (RFC 3550 §6.4.1,
 *   A.8): target = frame + 3·jitter, raised 20 ms after each underrun, and
 *   never under one packet plus one frame (a 60 ms packet must not run dry
 *   before the next one is due).
 * - Reordered packets are put back in order; a packet whose time has passed
 *   is counted late and dropped.
 * - A missing unit is concealed by repeating the last one, 6 dB quieter for
 *   each 20 ms concealed, for up to `concealMs`; after that the buffer plays
 *   silence and re-buffers.
 * - If more than the target plus 40 ms (or a packet, if longer) piles up,
 *   the oldest audio is dropped so delay does not grow (ITU-T G.114: one-way
 *   delay < 150 ms).
 *
 * `played`, `concealed` and `dropped` count 10 ms units; `received` and
 * `late` count packets.
 */

export interface JitterBufferOptions {
  minMs?: number;
  maxMs?: number;
  concealMs?: number;
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

/** 10 ms at 8 kHz: the unit audio is kept in. */
export const UNIT = 80;
const UNIT_MS = 10;
/** The read side's frame (20 ms). */
const FRAME_UNITS = 2;

export class JitterBuffer {
  private readonly units = new Map<number, Int16Array>();
  private next: number | undefined;
  private playing = false;
  private last: Int16Array | undefined;
  private concealedRun = 0;
  private jitter = 0;
  private lastTransit: number | undefined;
  private packetUnits = FRAME_UNITS;
  private targetUnits: number;
  private readonly minUnits: number;
  private readonly maxUnits: number;
  private readonly concealUnits: number;
  readonly stats: JitterStats;

  constructor(o: JitterBufferOptions = {}) {
    this.minUnits = Math.max(FRAME_UNITS, Math.round((o.minMs ?? 40) / UNIT_MS));
    this.maxUnits = Math.max(this.minUnits, Math.round((o.maxMs ?? 80) / UNIT_MS));
    this.concealUnits = Math.round((o.concealMs ?? 60) / UNIT_MS);
    this.targetUnits = this.minUnits;
    this.stats = {
      received: 0,
      played: 0,
      concealed: 0,
      late: 0,
      dropped: 0,
      underruns: 0,
      jitterMs: 0,
      targetMs: this.targetUnits * UNIT_MS,
    };
  }

  /**
   * A decoded packet arrived: `pcm` of any length (whole 10 ms units; a
   * partial last unit is completed with silence). `timestampMs` is its RTP
   * timestamp in ms, `arrivalMs` local time.
   */
  push(pcm: Int16Array, timestampMs: number, arrivalMs: number): void {
    this.stats.received++;
    // RFC 3550 A.8: J += (|D| - J) / 16, D the change in transit time.
    const transit = arrivalMs - timestampMs;
    if (this.lastTransit !== undefined) {
      this.jitter += (Math.abs(transit - this.lastTransit) - this.jitter) / 16;
      this.stats.jitterMs = this.jitter;
    }
    this.lastTransit = transit;
    const n = Math.ceil(pcm.length / UNIT);
    if (n === 0) return;
    const first = Math.round(timestampMs / UNIT_MS);
    if (this.next !== undefined && this.playing && first < this.next) {
      this.stats.late++;
      if (first + n <= this.next) return; // wholly past: dropped
    }
    if (this.next === undefined || (!this.playing && first < this.next)) this.next = first;
    this.packetUnits = n;
    for (let k = 0; k < n; k++) {
      if (this.playing && first + k < (this.next as number)) continue;
      const unit = new Int16Array(UNIT);
      unit.set(pcm.subarray(k * UNIT, (k + 1) * UNIT));
      this.units.set(first + k, unit);
    }
    this.adapt();
  }

  /** The least the target may be: one packet and one frame. */
  private floor(): number {
    return Math.max(this.minUnits, this.packetUnits + FRAME_UNITS);
  }

  private setTarget(units: number): void {
    this.targetUnits = Math.min(Math.max(this.maxUnits, this.floor()), units);
    this.stats.targetMs = this.targetUnits * UNIT_MS;
  }

  private adapt(): void {
    const wanted = Math.ceil((FRAME_UNITS * UNIT_MS + 3 * this.jitter) / UNIT_MS);
    this.setTarget(Math.max(this.floor(), wanted, this.targetUnits));
    const limit = this.targetUnits + Math.max(2 * FRAME_UNITS, this.packetUnits);
    while (this.playing && this.units.size > limit && this.next !== undefined) {
      if (this.units.delete(this.next)) this.stats.dropped++;
      this.next++;
    }
  }

  /** Fills `out` (whole 10 ms units; 160 samples a frame) with what is due. Always returns true. */
  read(out: Int16Array): boolean {
    for (let at = 0; at < out.length; at += UNIT) this.readUnit(out.subarray(at, at + UNIT));
    return true;
  }

  private readUnit(out: Int16Array): void {
    if (!this.playing) {
      if (this.units.size >= this.targetUnits) this.playing = true;
      else {
        out.fill(0);
        return;
      }
    }
    const at = this.next as number;
    const unit = this.units.get(at);
    this.next = at + 1;
    if (unit) {
      this.units.delete(at);
      out.set(unit.subarray(0, out.length));
      this.last = unit;
      this.concealedRun = 0;
      this.stats.played++;
      return;
    }
    if (this.last && this.concealedRun < this.concealUnits) {
      this.concealedRun++;
      const gain = 0.5 ** Math.ceil((this.concealedRun * UNIT_MS) / 20);
      for (let i = 0; i < out.length; i++) out[i] = Math.round((this.last[i] as number) * gain);
      this.stats.concealed++;
      return;
    }
    // Concealment used up. Later audio waiting: go on from the earliest.
    let earliest: number | undefined;
    for (const k of this.units.keys()) if (earliest === undefined || k < earliest) earliest = k;
    if (earliest !== undefined) {
      this.next = earliest;
      this.concealedRun = 0;
      return this.readUnit(out);
    }
    // Nothing at all: silence, and wait for the target again with 20 ms more of margin.
    out.fill(0);
    this.playing = false;
    this.last = undefined;
    this.next = undefined;
    this.stats.underruns++;
    this.setTarget(this.targetUnits + FRAME_UNITS);
  }
}
