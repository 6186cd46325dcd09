/**
 * The config's JSON Schemas and the one ajv set-up that validates them (draft
 * 2020-12, every error, defaults filled in): for config-validators.ts from
 * source, and for the standalone validators scripts/build.mjs generates.
 */
import type { Options, SchemaObject } from "ajv";
import { Ajv2020 } from "ajv/dist/2020.js";
import { ALERTING_SCHEMA } from "./alerting-schema.ts";
import { CONFIG_SCHEMA } from "./config-schema.ts";

/** Every schema validated at run time, by a name the built validators are exported under. */
export const SCHEMAS: Readonly<Record<string, SchemaObject>> = {
  config: CONFIG_SCHEMA,
  alerting: ALERTING_SCHEMA,
};

export function newAjv(extra: Options = {}): Ajv2020 {
  const ajv = new Ajv2020({
    allErrors: true,
    useDefaults: true,
    allowUnionTypes: true,
    strict: true,
    strictRequired: false, // a rule's anyOf names properties defined beside it
    ...extra,
  });
  // Annotations for the error lines (config-errors.ts), not checks.
  ajv.addKeyword({ keyword: "x-reason", schemaType: ["string", "object"] });
  ajv.addKeyword({ keyword: "x-missing", schemaType: "string" });
  return ajv;
}
