#!/usr/bin/env node
import { loadBuilt } from "./load-built.mjs";

const { demoCommand } = await loadBuilt("deskphone-demo");
process.exitCode = await demoCommand(process.argv.slice(2), {
  out: (s) => process.stdout.write(s),
  err: (s) => process.stderr.write(s),
});
