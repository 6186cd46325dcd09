/** Reads a 16-bit PCM WAV file (RIFF) into mono samples: the first channel. */
import { readFileSync } from "node:fs";

export function readWav(path: string): { rate: number; channels: number; samples: Int16Array } {
  const b = readFileSync(path);
  if (b.toString("ascii", 0, 4) !== "RIFF" || b.toString("ascii", 8, 12) !== "WAVE")
    throw new Error(`${path}: not a WAV file`);
  let off = 12;
  let rate = 0;
  let channels = 1;
  while (off + 8 <= b.length) {
    const id = b.toString("ascii", off, off + 4);
    let size = b.readUInt32LE(off + 4);
    if (id === "fmt ") {
      channels = b.readUInt16LE(off + 10);
      rate = b.readUInt32LE(off + 12);
    } else if (id === "data") {
      // A dump still being written says 0 (or too much): take what is there.
      if (size === 0 || off + 8 + size > b.length) size = b.length - off - 8;
      const n = Math.floor(size / 2 / channels);
      const samples = new Int16Array(n);
      for (let i = 0; i < n; i++) samples[i] = b.readInt16LE(off + 8 + i * 2 * channels);
      return { rate, channels, samples };
    }
    off += 8 + size + (size & 1);
  }
  throw new Error(`${path}: no data chunk`);
}
