#!/usr/bin/env node
// Runs the compiled firmware (build/, from `npm ci` or `npm run build`;
// docs/build.md) with plain node. Node and V8 flags go on the node command
// line that starts this file (/usr/bin/deskphone, the systemd unit), not here.
import { loadBuilt } from "./load-built.mjs";

const { main } = await loadBuilt("deskphone");
process.exitCode = await main(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
