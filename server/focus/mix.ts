/**
 * The room's mix, N−1: every 20 ms each participant's next frame is taken
 * from its jitter buffer (already G.711-decoded), all are summed once, and
 * each participant is sent the sum less its own frame, clipped to 16 bits and
 * G.711-encoded by its RTP session — so nobody hears themselves back.
 *
 * `mixMinusOne` is the arithmetic alone (the benchmark measures it with the
 * decode and encode around it, bench/focus-mix.ts); `RoomMix` runs it over
 * the participants' media on the process's one 20 ms clock (`MixClock`).
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

/**
 * One 20 ms clock for every room of the process: one wake-up a frame however
 * many rooms are open, every room mixed in the same turn. Late by more than
 * 5 frames (a stall), it skips rather than bursts, and counts what it skipped.
 */
export class MixClock {
  private readonly rooms = new Set<{ tick(): void }>();
  private timer: NodeJS.Timeout | undefined;
  private start = 0;
  private ticks = 0;
  /** Frames mixed, and frames skipped because the clock was woken too late (a stall). */
  readonly stats = { mixed: 0, skipped: 0 };

  add(room: { tick(): void }): void {
    this.rooms.add(room);
    if (!this.timer) this.run();
  }

  remove(room: { tick(): void }): void {
    this.rooms.delete(room);
    if (this.rooms.size === 0) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
  }

  private run(): void {
    this.start = nowMs();
    this.ticks = 0;
    const step = () => {
      const due = Math.floor((nowMs() - this.start) / FRAME_MS) + 1 - this.ticks;
      for (let i = 0; i < Math.min(due, 5); i++) {
        for (const room of this.rooms) {
          try {
            room.tick();
          } catch (e) {
            // One room's fault must not silence the others: that room stops mixing.
            this.rooms.delete(room);
            process.emitWarning(`a room stopped mixing: ${(e as Error).message}`);
          }
        }
        this.ticks++;
        this.stats.mixed++;
      }
      if (due > 5) {
        this.ticks += due - 5;
        this.stats.skipped += due - 5;
      }
      this.timer = setTimeout(step, Math.max(1, this.ticks * FRAME_MS - (nowMs() - this.start)));
    };
    this.timer = setTimeout(step, 0);
  }
}

/** The clock every room uses unless given another. */
export const processClock = new MixClock();

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
  /** The slots as arrays, rebuilt on add and remove (no garbage per tick). */
  private list: Slot[] = [];
  private inputs: Int16Array[] = [];
  private outputs: Int16Array[] = [];
  private readonly sum = new Int32Array(FRAME);
  private alone: { id: string; source: { read(out: Int16Array): boolean } } | undefined;

  constructor(private readonly clock: MixClock = processClock) {}

  add(id: string, leg: MixLeg): void {
    this.slots.set(id, { leg, input: new Int16Array(FRAME), output: new Int16Array(FRAME) });
    this.rebuild();
    this.clock.add(this);
  }

  remove(id: string): void {
    this.slots.delete(id);
    this.rebuild();
  }

  private rebuild(): void {
    this.list = [...this.slots.values()];
    this.inputs = this.list.map((s) => s.input);
    this.outputs = this.list.map((s) => s.output);
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
    const slots = this.list;
    for (const s of slots) s.leg.read(s.input);
    if (slots.length === 1 && this.alone && this.slots.has(this.alone.id)) {
      const s = slots[0] as Slot;
      this.alone.source.read(s.output);
      s.leg.sendFrame(s.output);
      return;
    }
    mixMinusOne(this.inputs, this.outputs, this.sum);
    for (const s of slots) s.leg.sendFrame(s.output);
  }

  stop(): void {
    this.clock.remove(this);
    this.slots.clear();
    this.rebuild();
  }
}
