/** What the `deskphone` commands share: argument parsing and loading the config file. */
import { parseArgs } from "node:util";
import type { CliIO } from "./classify-alert.ts";
import { loadConfig, type PhoneConfig } from "./config.ts";

export const DEFAULT_CONFIG_PATH = "/etc/deskphone/config.yaml";

export function args(
  argv: string[],
  usage: string,
  io: CliIO,
  extra: Record<string, { type: "string" | "boolean" }> = {},
): { values: Record<string, string | boolean | undefined>; positionals: string[] } | undefined {
  try {
    return parseArgs({
      args: argv,
      options: { config: { type: "string" }, help: { type: "boolean" }, ...extra },
      allowPositionals: true,
    }) as {
      values: Record<string, string | boolean | undefined>;
      positionals: string[];
    };
  } catch (e) {
    io.err(`${(e as Error).message}\n${usage}`);
    return undefined;
  }
}

export function load(path: string, io: CliIO): PhoneConfig | undefined {
  const r = loadConfig(path);
  for (const w of r.warnings) io.err(`warning: ${w}\n`);
  if (!r.ok) {
    for (const e of r.errors) io.err(`${path}: ${e.path || "(file)"}: ${e.reason}\n`);
    return undefined;
  }
  return r.config;
}
