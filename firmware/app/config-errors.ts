/**
 * Validates a config document against its JSON Schema (ajv, draft 2020-12,
 * every error, defaults filled in from the schema) and turns ajv's errors
 * into the lines users read: `PATH: REASON`, e.g.
 * `exchange.url: expected a ws:// or wss:// URL`.
 *
 * The reasons live in the schema beside what they explain, in two
 * annotations editors ignore:
 *
 *   "x-reason": "…"           any failure in this node or below is reported
 *                             here, with this reason (one line per setting)
 *   "x-reason": { type: "…" } a reason per keyword of this node ("*": any);
 *                             "additionalProperties" may name the {known} keys
 *   "x-missing": "…"          the reason when this required setting is absent
 *
 * What has no annotation gets a reason from the keyword: "expected a mapping",
 * "expected a number from 30 to 86400", "expected one of …", "unknown setting
 * (known: …)".
 */
import type { ErrorObject, SchemaObject } from "ajv";
import type { ConfigError } from "../alerting/alert-config.ts";
import { validatorFor } from "./config-validators.ts";

export type { ConfigError };

type Node = SchemaObject & { "x-reason"?: string | Record<string, string>; "x-missing"?: string };

/**
 * A validator for `schema` (one of config-validators.ts's SCHEMAS): fills in
 * defaults in place and returns the problems, none if valid.
 */
export function schemaValidator(schema: SchemaObject): (doc: unknown) => ConfigError[] {
  return (doc) => {
    const validate = validatorFor(schema);
    return validate(doc) ? [] : configErrors(schema, validate.errors ?? []);
  };
}

/** ajv's errors as path-and-reason lines, one per setting and reason, in the order found. */
export function configErrors(root: SchemaObject, errors: readonly ErrorObject[]): ConfigError[] {
  const out: ConfigError[] = [];
  for (const e of errors) {
    // A failed anyOf/if/propertyNames also reports each branch's failure: the
    // node's own error says it once.
    if (/\/(anyOf|oneOf)\/\d+\/|\/propertyNames\//.test(e.schemaPath) || e.keyword === "if")
      continue;
    const c = toConfigError(root, e);
    if (!out.some((o) => o.path === c.path && o.reason === c.reason)) out.push(c);
  }
  return out;
}

interface Step {
  node: Node;
  /** How many segments of the instance path this node stands at. */
  depth: number;
}

function toConfigError(root: SchemaObject, e: ErrorObject): ConfigError {
  const inst = e.instancePath
    .split("/")
    .slice(1)
    .map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
  const { steps, index } = walk(root, e.schemaPath);
  const at = (depth: number) => formatPath(inst.slice(0, depth), index);
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i] as Step;
    const r = s.node["x-reason"];
    if (typeof r === "string") return { path: at(s.depth), reason: r };
  }
  const node = (steps[steps.length - 1] as Step).node;
  const own = (node["x-reason"] ?? {}) as Record<string, string>;
  const path = at(inst.length);
  const p = e.params as Record<string, unknown>;
  const child = (name: string) => join(path, name);
  switch (e.keyword) {
    case "required": {
      const name = String(p.missingProperty);
      const prop = (node.properties?.[name] ?? {}) as Node;
      const reason =
        prop["x-missing"] ??
        (typeof prop["x-reason"] === "string" ? prop["x-reason"] : undefined) ??
        own.required ??
        "required";
      return { path: child(name), reason };
    }
    case "additionalProperties": {
      const known = Object.keys(node.properties ?? {}).join(", ");
      const reason = (own.additionalProperties ?? "unknown setting (known: {known})").replace(
        "{known}",
        known,
      );
      return { path: child(String(p.additionalProperty)), reason };
    }
    case "propertyNames":
      return { path: child(String(p.propertyName)), reason: own.propertyNames ?? e.message ?? "" };
  }
  return { path, reason: own[e.keyword] ?? own["*"] ?? fallback(node, e) };
}

function fallback(node: Node, e: ErrorObject): string {
  const range = (n: Node) =>
    n.minimum !== undefined && n.maximum !== undefined
      ? `expected a ${n.type === "integer" ? "whole " : ""}number from ${n.minimum} to ${n.maximum}`
      : undefined;
  switch (e.keyword) {
    case "type": {
      const t = (e.params as { type: string }).type;
      if (t === "object") return "expected a mapping";
      if (t === "boolean") return "expected true or false";
      if (t === "string") return "expected a string";
      if (t === "array") return "expected a list";
      return range(node) ?? `expected a ${t === "integer" ? "whole number" : t}`;
    }
    case "minimum":
    case "maximum":
      return range(node) ?? `expected a number ${e.message?.replace(/^must be /, "")}`;
    case "enum":
      return `expected one of ${(node.enum as unknown[]).join(", ")}`;
    default:
      return `expected a value that ${e.message ?? "fits the schema"}`;
  }
}

/** Follows a schema path ("#/properties/a/items/…/keyword") from the root, node by node. */
function walk(root: SchemaObject, schemaPath: string): { steps: Step[]; index: Set<number> } {
  const segs = schemaPath.replace(/^#\/?/, "").split("/").slice(0, -1);
  const steps: Step[] = [{ node: root, depth: 0 }];
  const index = new Set<number>(); // instance depths that are list positions
  let node = root as Node;
  let depth = 0;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i] as string;
    if (s === "properties" || s === "patternProperties") {
      node = node[s][segs[++i] as string];
      depth++;
    } else if (s === "anyOf" || s === "oneOf" || s === "allOf") {
      node = node[s][Number(segs[++i])];
    } else if (s === "prefixItems") {
      node = node[s][Number(segs[++i])];
      index.add(depth++);
    } else if (s === "items") {
      node = node[s];
      index.add(depth++);
    } else if (s === "additionalProperties") {
      node = node[s];
      depth++;
    } else {
      node = node[s]; // if, then, else, not: the same instance
    }
    steps.push({ node, depth });
  }
  return { steps, index };
}

function formatPath(segs: string[], index: Set<number>): string {
  let path = "";
  segs.forEach((s, i) => {
    path = index.has(i) ? `${path}[${s}]` : join(path, s);
  });
  return path;
}

const join = (path: string, name: string) => (path ? `${path}.${name}` : name);

/**
 * The value at `keys` in a document the schema may have refused: undefined
 * where a step is not a mapping. For the checks that run after the schema.
 */
export function at(doc: unknown, ...keys: string[]): unknown {
  let v = doc;
  for (const k of keys) v = isMapping(v) ? v[k] : undefined;
  return v;
}

/** The entries of a mapping; none for anything else. */
export const entriesOf = (v: unknown): [string, unknown][] =>
  isMapping(v) ? Object.entries(v) : [];

const isMapping = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v);
