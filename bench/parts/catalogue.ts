/**
 * npm run bench's parts, in the order they run, and the rows each gives: the
 * rows are listed here too so that a part that is missing or fails still has
 * its lines in the table ("not measured: why").
 */
import type { Row } from "../bench-table.ts";

export type RowTemplate = Omit<Row, "ours" | "ref"> & { refName?: string };

export interface Part {
  name: string;
  /** The module (from the repository's root) and the function that returns its rows. */
  module: string;
  fn: string;
  /** How long it may take before it is stopped, s (full run; --quick allows a third). */
  timeoutS: number;
  rows: RowTemplate[];
}

export const PARTS: Part[] = [
  {
    name: "ours and baresip",
    module: "bench/parts/phone-vs-baresip.ts",
    fn: "run",
    timeoutS: 240,
    rows: [
      {
        id: "start-registered",
        label: "start → registered",
        unit: "ms",
        refName: "baresip",
        target: { kind: "atMost", value: 250 },
        config: "",
      },
      {
        id: "invite-180",
        label: "INVITE → 180 inside the phone",
        unit: "ms",
        refName: "baresip",
        target: { kind: "ratioAtMost", value: 3 },
        config: "",
      },
      {
        id: "invite-180-first",
        label: "the first INVITE after start → 180",
        unit: "ms",
        refName: "baresip",
        config: "",
      },
      {
        id: "rss-idle-vs",
        label: "RSS, registered and idle (1 s after registering)",
        unit: "MB",
        refName: "baresip",
        target: { kind: "atMost", value: 60 },
        config: "",
      },
      {
        id: "rss-call-vs",
        label: "RSS in a call (2 s into an answered call)",
        unit: "MB",
        refName: "baresip",
        target: { kind: "atMost", value: 70 },
        config: "",
      },
    ],
  },
  {
    name: "start-up beside a bare Node + sip.js phone",
    module: "bench/parts/helpers-parts.ts",
    fn: "startUp",
    timeoutS: 180,
    rows: [
      {
        id: "start-registered-bare",
        label: "start → registered, beside a bare Node + sip.js phone",
        unit: "ms",
        refName: "bare Node + sip.js",
        target: { kind: "ratioAtMost", value: 0.7 },
        config: "",
      },
      { id: "version", label: "`deskphone --version`, spawn → exit", unit: "ms", config: "" },
    ],
  },
  {
    name: "INVITE → 180 in-process",
    module: "bench/parts/helpers-parts.ts",
    fn: "inviteTo180",
    timeoutS: 120,
    rows: [
      {
        id: "invite-180-inproc",
        label: "INVITE → 180 inside the phone, in-process (ordinary)",
        unit: "ms",
        config: "",
      },
      {
        id: "invite-180-inproc-emergency",
        label: "INVITE → 180 inside the phone, in-process (emergency)",
        unit: "ms",
        config: "",
      },
    ],
  },
  {
    name: "ring onset",
    module: "bench/ring-latency.ts",
    fn: "run",
    timeoutS: 120,
    rows: [
      {
        id: "ring-onset",
        label: "ring onset: emergency INVITE in → first ring sample out of ALSA",
        unit: "ms",
        target: { kind: "atMost", value: 30 },
        config: "",
      },
    ],
  },
  {
    name: "preemption",
    module: "bench/preemption.ts",
    fn: "run",
    timeoutS: 120,
    rows: [
      {
        id: "preempt-bye",
        label: "preemption: emergency INVITE in → BYE (Reason: preemption) out",
        unit: "ms",
        config: "",
      },
      {
        id: "preempt-ok",
        label: "preemption complete: emergency INVITE in → its 200 OK out",
        unit: "ms",
        target: { kind: "atMost", value: 20 },
        config: "",
      },
    ],
  },
  {
    name: "call media CPU",
    module: "bench/parts/media-cpu.ts",
    fn: "run",
    timeoutS: 240,
    rows: [
      {
        id: "media-cpu",
        label: "CPU per full-duplex G.711 call-minute, all in",
        unit: "CPU-s",
        refName: "baresip",
        target: { kind: "ratioAtMost", value: 1 },
        config: "",
      },
      {
        id: "media-cpu-own",
        label: "CPU per call-minute, without the virtual card's JACK threads",
        unit: "CPU-s",
        config: "",
      },
    ],
  },
  {
    name: "memory over many calls",
    module: "bench/parts/helpers-parts.ts",
    fn: "memory",
    timeoutS: 900,
    rows: [
      {
        id: "rss-idle",
        label: "RSS idle (registered, 5 s after)",
        unit: "MB",
        target: { kind: "atMost", value: 60 },
        config: "",
      },
      {
        id: "rss-call",
        label: "RSS in a call (3 s into the first)",
        unit: "MB",
        target: { kind: "atMost", value: 70 },
        config: "",
      },
      {
        id: "rss-after-calls",
        label: "RSS after 1,000 calls (15 s later)",
        unit: "MB",
        target: { kind: "withinOf", row: "rss-idle", value: 1.1, what: "flat: ≤ 1.1 × RSS idle" },
        config: "",
      },
    ],
  },
  {
    name: "idle CPU",
    module: "bench/parts/helpers-parts.ts",
    fn: "idleCpu",
    timeoutS: 120,
    rows: [
      {
        id: "idle-cpu",
        label: "idle CPU, chardev GPIO backend (% of one core)",
        unit: "%",
        target: { kind: "atMost", value: 0.1 },
        config: "",
      },
      {
        id: "idle-wakeups",
        label: "idle wake-ups of every thread, per second",
        unit: "/s",
        config: "",
      },
    ],
  },
];
