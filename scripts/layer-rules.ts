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

/** Packages that belong to one layer's job; others must reach them through it. */
export const PACKAGE_OWNERS: Record<string, readonly Layer[]> = {
  "sip.js": ["sip", "server"],
  ws: ["sip", "server", "firmware/app"],
  onoff: ["hal"],
  "i2c-bus": ["hal"],
};
