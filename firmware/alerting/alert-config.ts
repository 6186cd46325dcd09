/**
 * What the alerting configuration must hold beyond its shape. The shape, its
 * defaults and its error words are the `alerting` part of the config's JSON
 * Schema (firmware/app/alerting-schema.ts); the defaults of every class and
 * rule are in alert-class.ts.
 */
import type { AlertConfig } from "./alert-class.ts";

/** A configuration problem: where (`rules[0].class`) and why. */
export interface ConfigError {
  path: string;
  reason: string;
}

/** Rules that name a class the configuration does not have: `rules[i].class: no class named "x"`. */
export function rulesNamingNoClass(config: {
  classes: AlertConfig["classes"] | Readonly<Record<string, unknown>>;
  rules: readonly { class?: unknown }[];
}): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const [i, r] of config.rules.entries()) {
    if (typeof r.class === "string" && !Object.hasOwn(config.classes, r.class))
      errors.push({ path: `rules[${i}].class`, reason: `no class named "${r.class}"` });
  }
  return errors;
}
