/**
 * `deskphone classify-alert`: prints as JSON what the phone would do with an
 * incoming call carrying the given headers. How an administrator checks the
 * header their PBX sends, and how black-box tests check the parser.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { parse as parseYaml } from "yaml";
import type { AlertConfig } from "../alerting/alert-class.ts";
import { classify } from "../alerting/classify.ts";
import { parseAlertConfig } from "./alerting-config.ts";

export const CLASSIFY_USAGE = `usage: deskphone classify-alert [options]

Prints, as JSON, the alert class the phone picks for an incoming call.

  --alert-info VALUE         an Alert-Info header line (repeatable)
  --priority VALUE           the Priority header (RFC 3261 §20.26)
  --resource-priority VALUE  a Resource-Priority header line (repeatable, RFC 4412)
  --config FILE              a YAML/JSON file: the phone's config (its "alerting"
                             section is used) or an alerting section alone
  --untrusted                as if the call did not come from the trusted exchange
  --help

Exit codes: 0 printed; 2 bad arguments or a bad config file.
`;

export interface CliIO {
  out: (s: string) => void;
  err: (s: string) => void;
}

function loadConfig(path: string): AlertConfig | string {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    return `${path}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
  }
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    return `${path}: not valid YAML: ${(e as Error).message.split("\n")[0]}`;
  }
  const section =
    doc && typeof doc === "object" && "alerting" in doc
      ? (doc as { alerting: unknown }).alerting
      : doc;
  const prefix = section === doc ? "" : "alerting.";
  const r = parseAlertConfig(section);
  if (!r.ok) return r.errors.map((e) => `${path}: ${prefix}${e.path}: ${e.reason}`).join("\n");
  return r.config;
}

export function classifyAlertCommand(argv: string[], io: CliIO): number {
  let values: ReturnType<typeof parse>["values"];
  function parse(args: string[]) {
    return parseArgs({
      args,
      options: {
        "alert-info": { type: "string", multiple: true },
        priority: { type: "string" },
        "resource-priority": { type: "string", multiple: true },
        config: { type: "string" },
        untrusted: { type: "boolean" },
        help: { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
  }
  try {
    values = parse(argv).values;
  } catch (e) {
    io.err(`deskphone classify-alert: ${(e as Error).message}\n${CLASSIFY_USAGE}`);
    return 2;
  }
  if (values.help) {
    io.out(CLASSIFY_USAGE);
    return 0;
  }
  let config: AlertConfig | undefined;
  if (values.config) {
    const loaded = loadConfig(values.config);
    if (typeof loaded === "string") {
      io.err(`deskphone classify-alert: ${loaded}\n`);
      return 2;
    }
    config = loaded;
  }
  const c = classify(
    {
      alertInfo: values["alert-info"] ?? [],
      ...(values.priority !== undefined && { priority: values.priority }),
      resourcePriority: values["resource-priority"] ?? [],
      trusted: !values.untrusted,
    },
    config,
  );
  const cls = c.alertClass;
  const report = {
    class: cls.name,
    emergency: cls.emergency,
    precedence: cls.precedence,
    cadence: c.cadence.name,
    busyPolicy: cls.whenBusy,
    bypassDnd: cls.bypassDnd,
    ringLevel: cls.ringLevel,
    led: cls.led,
    trustedOnly: cls.trustedOnly,
    matchedBy: c.matchedBy,
    untrustedIgnored: c.untrustedIgnored,
    parsed: {
      alertInfo: c.alertInfo,
      priority: c.priority,
      resourcePriority: c.resourcePriority,
    },
  };
  io.out(`${JSON.stringify(report, null, 2)}\n`);
  return 0;
}
