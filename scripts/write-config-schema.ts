/**
 * Writes firmware/app/config.schema.json, the config's JSON Schema for editors,
 * from its one source, firmware/app/config-schema.ts (formatted as the
 * repository's JSON is). test/firmware/app/config-schema.test.ts fails while
 * the file is not current.
 *
 *   npx tsx scripts/write-config-schema.ts
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { CONFIG_SCHEMA } from "../firmware/app/config-schema.ts";

const path = "firmware/app/config.schema.json";
writeFileSync(path, `${JSON.stringify(CONFIG_SCHEMA, null, 2)}\n`);
execFileSync("npx", ["biome", "format", "--write", path], { stdio: "inherit" });
console.log(`wrote ${path}`);
