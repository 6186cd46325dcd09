/**
 * The import rules between the layers (docs/layers.md), as data.
 * `scripts/check-layers.ts` enforces them.
 */

export type Layer =
  | "hal"
  | "audio"
  | "sip"
  | "firmware/alerting"
  | "firmware/controller"
  | "firmware/app"
  | "server";

export const LAYERS: readonly Layer[] = [
  "firmware/alerting",
  "firmware/controller",
  "firmware/app",
  "hal",
  "audio",
  "sip",
  "server",
];

/** Which of our layers each layer may import (itself always included). */
export const MAY_IMPORT: Record<Layer, readonly Layer[]> = {
  hal: ["hal"],
  audio: ["audio"],
  sip: ["sip", "audio"],
  "firmware/alerting": ["firmware/alerting"],
  "firmware/controller": ["firmware/controller", "firmware/alerting"],
  "firmware/app": [
    "firmware/app",
    "firmware/controller",
    "firmware/alerting",
    "sip",
    "hal",
    "audio",
  ],
  server: ["server", "sip", "audio"],
};

/**
 * Pure layers take time as a value and perform no I/O: they may import no
 * package at all, neither Node's built-ins nor npm packages.
 */
export const PURE: ReadonlySet<Layer> = new Set(["firmware/alerting", "firmware/controller"]);

/**
 * Files whose types (and only types: `import type`, erased at build) a layer
 * may take although it may not import their layer: the handset's contract is
 * the one home of the words the pure layers decide in (LedName, LedPattern, KeyName),
 * so what the controller asks an LED to show is what every backend shows.
 */
export const TYPES_FROM: Partial<Record<Layer, readonly string[]>> = {
  "firmware/alerting": ["hal/contracts.ts"],
  "firmware/controller": ["hal/contracts.ts"],
};

/** Packages that belong to one layer's job; others must reach them through it. */
export const PACKAGE_OWNERS: Record<string, readonly Layer[]> = {
  "sip.js": ["sip", "server"],
  ws: ["sip", "server", "firmware/app"],
  onoff: ["hal"],
  "i2c-bus": ["hal"],
};
