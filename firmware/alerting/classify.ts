/**
 * Incoming request headers → the alert class the phone acts on. Pure; never
 * throws on any header text.
 */
import { type AlertClass, type AlertConfig, DEFAULT_ALERT_CONFIG } from "./alert-class.ts";
import { type AlertInfoValue, alertInfoMatches, parseAlertInfo } from "./alert-info.ts";
import { CADENCES, type Cadence } from "./cadences.ts";
import {
  highestLevel,
  type PriorityValue,
  parsePriority,
  parseResourcePriority,
  type ResourcePriority,
} from "./priority.ts";

export interface AlertHeaders {
  /** Every Alert-Info line as received (not split on commas). */
  alertInfo?: readonly string[];
  priority?: string | readonly string[];
  resourcePriority?: readonly string[];
  /** Whether the request came over the registered exchange connection. */
  trusted: boolean;
}

export interface Classification {
  alertClass: AlertClass;
  /** The rendered cadence ("ring" resolved to the national preset). */
  cadence: Cadence;
  /** What matched, e.g. `alert-info "alert-emergency"`, or "no rule matched". */
  matchedBy: string;
  /** Trusted-only classes whose rule matched but the source was not trusted. */
  untrustedIgnored: string[];
  alertInfo: AlertInfoValue[];
  priority: PriorityValue;
  resourcePriority: ResourcePriority[];
}

function resolveCadence(name: string, config: AlertConfig): Cadence {
  const key = name === "ring" ? `ring-${config.country}` : name;
  return CADENCES[key] ?? (CADENCES[`ring-${config.country}`] as Cadence);
}

export function classify(
  headers: AlertHeaders,
  config: AlertConfig = DEFAULT_ALERT_CONFIG,
): Classification {
  const alertInfo = parseAlertInfo(headers.alertInfo);
  const priority = parsePriority(headers.priority);
  const resourcePriority = parseResourcePriority(headers.resourcePriority);
  const level = highestLevel(resourcePriority);
  const untrustedIgnored: string[] = [];

  for (const rule of config.rules) {
    const cls = config.classes[rule.class];
    if (!cls) continue;
    let matchedBy: string | undefined;
    for (const pattern of rule.alertInfo ?? []) {
      if (alertInfo.some((v) => alertInfoMatches(v, pattern))) {
        matchedBy = `alert-info "${pattern}"`;
        break;
      }
    }
    if (!matchedBy && rule.priority?.includes(priority)) matchedBy = `priority "${priority}"`;
    if (
      !matchedBy &&
      rule.resourcePriorityAtLeast !== undefined &&
      level >= rule.resourcePriorityAtLeast
    ) {
      const top = resourcePriority.find((r) => r.level === level);
      matchedBy = `resource-priority "${top?.namespace}.${top?.value}"`;
    }
    if (!matchedBy) continue;
    if (cls.trustedOnly && !headers.trusted) {
      untrustedIgnored.push(cls.name);
      continue;
    }
    return {
      alertClass: cls,
      cadence: resolveCadence(cls.cadence, config),
      matchedBy: `${matchedBy} (rule ${config.rules.indexOf(rule) + 1})`,
      untrustedIgnored,
      alertInfo,
      priority,
      resourcePriority,
    };
  }
  const normal = config.classes.normal ?? (DEFAULT_ALERT_CONFIG.classes.normal as AlertClass);
  return {
    alertClass: normal,
    cadence: resolveCadence(normal.cadence, config),
    matchedBy: "no rule matched",
    untrustedIgnored,
    alertInfo,
    priority,
    resourcePriority,
  };
}
