// Builds the project's native parts with npm's own node-gyp against this
// Node's headers: native/gpio-ioctl (ioctl(2) for the GPIO character device)
// and native/alsa-pcm (an ALSA PCM in-process, paced on the device clock).
// Run by `npm ci` / `npm install` (the "install" script). A failure is reported
// and does not fail the install: only the GPIO character-device backend needs
// them, and each says so clearly when it is missing.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";

const nodeRoot = dirname(dirname(process.execPath));
const nodedir = existsSync(join(nodeRoot, "include", "node", "node_api.h")) ? nodeRoot : undefined;
const npmGyp = process.env.npm_config_node_gyp;
const gyp = npmGyp && existsSync(npmGyp) ? [process.execPath, npmGyp] : ["node-gyp"];
const args = [
  ...gyp.slice(1),
  "rebuild",
  "-C",
  "native/gpio-ioctl",
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
  console.warn(
    `deskphone: native/gpio-ioctl was not built (the GPIO character-device backend needs it):\n${why}`,
  );
}
