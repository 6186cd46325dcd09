/**
 * The `alerting` section of the config (alerting-schema.ts gives its shape)
 * made into the AlertConfig that firmware/alerting classifies calls with:
 * configured classes change a default class or add one, configured rules
 * replace the default rules. Also the check of an alerting section alone, for
 * `deskphone classify-alert --config`.
 */
import {
  type AlertClass,
  type AlertConfig,
  type AlertRule,
  DEFAULT_ALERT_CONFIG,
} from "../alerting/alert-class.ts";
import { type ConfigError, rulesNamingNoClass } from "../alerting/alert-config.ts";
import type { LedPattern } from "../alerting/led-pattern.ts";
import { ALERTING_SCHEMA } from "./alerting-schema.ts";
import { at, entriesOf, schemaValidator } from "./config-errors.ts";
import type { ConfigDocument } from "./config-schema.ts";

/** The validated `alerting` section (absent or empty: the defaults). */
export type AlertingSection = ConfigDocument["alerting"];
type Section = NonNullable<AlertingSection>;
type ClassSettings = NonNullable<Section["classes"]>[string];
type PatternSetting = NonNullable<ClassSettings["led"]>["pattern"];

export type AlertConfigResult =
  | { ok: true; config: AlertConfig }
  | { ok: false; errors: ConfigError[] };

/** The alert configuration a valid `alerting` section gives, over `base`. */
export function alertConfigFrom(
  section: AlertingSection,
  base: AlertConfig = DEFAULT_ALERT_CONFIG,
): AlertConfig {
  if (!section) return base;
  const classes: Record<string, AlertClass> = { ...base.classes };
  for (const [name, settings] of Object.entries(section.classes ?? {})) {
    const { led, ...rest } = settings;
    classes[name] = {
      ...(classes[name] ?? (classes.normal as AlertClass)),
      ...rest,
      name,
      ...(led && { led: { name: led.name, pattern: ledPattern(led.pattern) } }),
    };
  }
  const list = (v: string | readonly string[]) => (typeof v === "string" ? [v] : v);
  const rules =
    section.rules?.map(
      (r): AlertRule => ({
        class: r.class,
        ...(r.alertInfo !== undefined && { alertInfo: list(r.alertInfo) }),
        ...(r.priority !== undefined && { priority: list(r.priority) }),
        ...(r.resourcePriorityAtLeast !== undefined && {
          resourcePriorityAtLeast: r.resourcePriorityAtLeast,
        }),
      }),
    ) ?? base.rules;
  return { country: section.country ?? base.country, classes, rules };
}

function ledPattern(p: PatternSetting): LedPattern {
  if (p === "off" || p === "on") return { kind: p };
  return { kind: "blink", onMs: p.blink[0] as number, offMs: p.blink[1] as number };
}

/**
 * What the schema cannot see in an `alerting` section (paths below
 * `alerting`): a rule naming a class that neither the defaults nor the
 * section define. Runs on a section the schema may have refused.
 */
export function alertingProblems(section: unknown, base = DEFAULT_ALERT_CONFIG): ConfigError[] {
  const rules = at(section, "rules");
  return rulesNamingNoClass({
    classes: { ...base.classes, ...Object.fromEntries(entriesOf(at(section, "classes"))) },
    rules: Array.isArray(rules) ? rules.map((r) => ({ class: at(r, "class") })) : base.rules,
  });
}

const checkSection = schemaValidator(ALERTING_SCHEMA);

/** Checks an alerting section given alone (paths below it) and makes it an AlertConfig. */
export function parseAlertConfig(raw: unknown): AlertConfigResult {
  const section = structuredClone(raw ?? null); // nothing at all: the defaults
  const errors = [...checkSection(section), ...alertingProblems(section)];
  if (errors.length) return { ok: false, errors };
  return { ok: true, config: alertConfigFrom(section as AlertingSection) };
}
