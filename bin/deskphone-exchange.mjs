#!/usr/bin/env node
import { loadBuilt } from "./load-built.mjs";

const { main } = await loadBuilt("deskphone-exchange");
process.exitCode = await main(process.argv.slice(2));
