/**
 * The room's mix, N−1: every 20 ms each participant's next frame is taken
 * from its jitter buffer (already G.711-decoded), all are summed once, and
 * each participant is sent the sum less its own frame, clipped to 16 bits and
 * G.711-encoded by its RTP session — so nobody hears themselves back.
 *
 * `mixMinusOne` is the arithmetic alone (the benchmark measures it with the
 * decode and encode around it, bench/focus-mix.ts); `RoomMix` runs it on the
 * monotonic clock over the participants' media.
 */

/** 20 ms at 8 kHz. */
export const FRAME = 160;
const FRAME_MS = 20;

/** One participant's audio, as the mix sees it (an RtpSession is one). */
export interface MixLeg {
  /** The next 20 ms heard from this participant (concealment or silence when nothing came). */
  read(out: Int16Array): boolean;
  /** Sends 20 ms to this participant (encoded and packetised by its session). */
  sendFrame(pcm: Int16Array): void;
}

/**
 * out[k] = clip(Σ inputs − inputs[k]) for every k. `sum` is scratch of the
 * frame's length; inputs and outputs are frames of the same length.
 */
export function mixMinusOne(inputs: Int16Array[], outputs: Int16Array[], sum: Int32Array): void {
  const n = sum.length;
  sum.fill(0);
  for (const x of inputs)
    for (let i = 0; i < n; i++) sum[i] = (sum[i] as number) + (x[i] as number);
  for (let k = 0; k < inputs.length; k++) {
    const own = inputs[k] as Int16Array;
    const out = outputs[k] as Int16Array;
    for (let i = 0; i < n; i++) {
      const v = (sum[i] as number) - (own[i] as number);
      out[i] = v > 32767 ? 32767 : Math.max(v, -32768);
    }
  }
}

const nowMs = () => Number(process.hrtime.bigint()) / 1e6;

interface Slot {
  leg: MixLeg;
  input: Int16Array;
  output: Int16Array;
}

/**
 * The legs of one room mixed every 20 ms. A leg may also be given a source
 * it hears instead of the mix while it is alone (the caller's waiting tone).
 */
export class RoomMix {
  private readonly slots = new Map<string, Slot>();
  private readonly sum = new Int32Array(FRAME);
  private timer: NodeJS.Timeout | undefined;
  private start = 0;
  private ticks = 0;
  private alone: { id: string; source: { read(out: Int16Array): boolean } } | undefined;

  add(id: string, leg: MixLeg): void {
    this.slots.set(id, { leg, input: new Int16Array(FRAME), output: new Int16Array(FRAME) });
    if (!this.timer) this.run();
  }

  remove(id: string): void {
    this.slots.delete(id);
  }

  has(id: string): boolean {
    return this.slots.has(id);
  }

  get size(): number {
    return this.slots.size;
  }

  /** While `id` is the only leg it hears `source` (nothing to mix yet). */
  whileAlone(id: string, source: { read(out: Int16Array): boolean }): void {
    this.alone = { id, source };
  }

  /** One frame for every leg. */
  tick(): void {
    const slots = [...this.slots.values()];
    for (const s of slots) s.leg.read(s.input);
    const only = slots.length === 1 ? [...this.slots.keys()][0] : undefined;
    if (only !== undefined && this.alone?.id === only) {
      const s = slots[0] as Slot;
      this.alone.source.read(s.output);
      s.leg.sendFrame(s.output);
      return;
    }
    mixMinusOne(
      slots.map((s) => s.input),
      slots.map((s) => s.output),
      this.sum,
    );
    for (const s of slots) s.leg.sendFrame(s.output);
  }

  private run(): void {
    this.start = nowMs();
    this.ticks = 0;
    const step = () => {
      const due = Math.floor((nowMs() - this.start) / FRAME_MS) + 1 - this.ticks;
      for (let i = 0; i < Math.min(due, 5); i++) {
        this.tick();
        this.ticks++;
      }
      if (due > 5) this.ticks += due - 5; // a stall: skip rather than burst
      this.timer = setTimeout(step, Math.max(1, this.ticks * FRAME_MS - (nowMs() - this.start)));
    };
    this.timer = setTimeout(step, 0);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.slots.clear();
  }
}
