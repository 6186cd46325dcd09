// Builds the project's native parts with npm's own node-gyp against this
// Node's headers: native/gpio-ioctl (ioctl(2) for the GPIO character device)
// native/alsa-pcm (an ALSA PCM in-process, paced on the device clock;
// needs libasound2-dev) and native/call-media (a call's RTP and audio
// devices on a thread of its own; libasound2-dev too). Run by `npm ci` / `npm install` (the "install"
// script). A failure is reported and does not fail the install: each part
// says clearly at run time when it is missing, and tests check both load.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const nodeRoot = dirname(dirname(process.execPath));
const nodedir = existsSync(join(nodeRoot, "include", "node", "node_api.h")) ? nodeRoot : undefined;
const npmGyp = process.env.npm_config_node_gyp;
const bundled = join(
  nodeRoot,
  "lib",
  "node_modules",
  "npm",
  "node_modules",
  "node-gyp",
  "bin",
  "node-gyp.js",
);
const gypJs = npmGyp && existsSync(npmGyp) ? npmGyp : existsSync(bundled) ? bundled : undefined;
const gyp = gypJs ? [process.execPath, gypJs] : ["node-gyp"];

const parts = {
  "gpio-ioctl": "the GPIO character-device backend",
  "alsa-pcm": "the in-process ringer (aplay is used without it)",
  "call-media": "call audio on its own thread (aplay/arecord are used without it)",
  system: "sd_notify from the phone itself and trimHeap (systemd-notify is spawned without it)",
};
for (const [dir, usedBy] of Object.entries(parts)) {
  const args = [
    ...gyp.slice(1),
    "rebuild",
    "-C",
    `native/${dir}`,
    ...(nodedir ? [`--nodedir=${nodedir}`] : []),
  ];
  const r = spawnSync(gyp[0], args, { stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    const why = r.error
      ? r.error.message
      : (r.stderr ?? "")
          .split("\n")
          .filter((l) => /ERR!|error/.test(l))
          .slice(-5)
          .join("\n");
    console.warn(`deskphone: native/${dir} was not built (${usedBy} needs it):\n${why}`);
  }
}
