// image:boot's ear: reads what the phone's ringer played into snd-aloop
// (signed 16-bit mono raw at RATE) and tells whether it is the emergency ring:
// a warble between 950 and 1400 Hz, 1.2 s on and 0.3 s off (docs/alerting.md).
// Tone on/off by 20 ms windows' RMS; pitch by zero crossings.
//   node cadence.mjs FILE RATE
import { readFileSync } from "node:fs";

const [file, rateArg] = process.argv.slice(2);
const rate = Number(rateArg);
const buf = readFileSync(file);
const samples = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
const win = Math.round(rate * 0.02);
const rms = [];
const hz = [];
for (let i = 0; i + win <= samples.length; i += win) {
  let sum = 0;
  let zc = 0;
  for (let j = i; j < i + win; j++) {
    sum += samples[j] * samples[j];
    if (j > i && samples[j] >= 0 !== samples[j - 1] >= 0) zc++;
  }
  rms.push(Math.sqrt(sum / win));
  hz.push((zc / 2) * (rate / win));
}
const peak = Math.max(0, ...rms);
const on = rms.map((r) => peak > 300 && r > peak / 8);
// Runs of on and off, in ms; the first and the last are cut by the recording.
const raw = [];
for (const v of on) {
  if (raw.length && raw[raw.length - 1].on === v) raw[raw.length - 1].ms += 20;
  else raw.push({ on: v, ms: 20 });
}
// Under full-system emulation the ringer underruns: gaps of tens of ms inside a
// burst. A gap under 150 ms is bridged (and counted); the cadence's own silence is 300 ms.
let bridged = 0;
const runs = [];
for (const r of raw) {
  const last = runs[runs.length - 1];
  if (!r.on && r.ms < 150 && last?.on) {
    bridged++;
    last.ms += r.ms;
  } else if (last && last.on === r.on) last.ms += r.ms;
  else runs.push({ ...r });
}
const inner = runs.slice(1, -1);
const ons = inner.filter((r) => r.on).map((r) => r.ms);
const offs = inner.filter((r) => !r.on).map((r) => r.ms);
const tones = hz.filter((_, i) => on[i]);
const low = tones.filter((f) => f > 850 && f < 1100).length;
const high = tones.filter((f) => f > 1250 && f < 1550).length;
const median = (a) => (a.length ? [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)] : 0);
const onMs = median(ons);
const offMs = median(offs);
const ok =
  ons.length >= 2 &&
  Math.abs(onMs - 1200) <= 160 &&
  Math.abs(offMs - 300) <= 120 &&
  low > 5 &&
  high > 5;
console.log(
  `cadence: ${(samples.length / rate).toFixed(1)} s recorded, peak RMS ${peak.toFixed(0)}, on ${onMs} ms x${ons.length}, off ${offMs} ms x${offs.length}, windows at ~950 Hz ${low}, at ~1400 Hz ${high}, ${bridged} gaps under 150 ms bridged: ${ok ? "emergency ring" : "NOT the emergency ring"}`,
);
process.exit(ok ? 0 : 1);
