/**
 * The one description of the phone's configuration: this JSON Schema
 * validates it (config-errors.ts, with ajv), fills in its defaults, gives the
 * TypeScript type of a validated document (`FromSchema`, below), and is
 * written out as config.schema.json for editors (scripts/write-config-schema.ts;
 * a test checks the file is current). Reference: docs/configuration.md.
 */
import type { FromSchema } from "json-schema-to-ts";
import { ALERTING_SCHEMA } from "./alerting-schema.ts";
import { HAL_SCHEMA } from "./handset-schema.ts";

const device = <const R extends number>(rate: R, what: string) =>
  ({
    description: `ALSA PCM of the ${what}: a name, or { device, rate }`,
    type: ["string", "object"],
    additionalProperties: false,
    properties: {
      device: { type: "string", default: "default" },
      rate: {
        enum: [8000, 16000, 48000],
        default: rate,
        "x-reason": "expected 8000, 16000 or 48000",
      },
    },
    default: { device: "default", rate },
    "x-reason": {
      type: "expected an ALSA PCM name or { device: NAME, rate: 8000|16000|48000 }",
    },
  }) as const;

/** A setting YAML may read as a number (`user: 2001`): the phone takes its text. */
const text = { type: ["string", "number"] } as const;

export const CONFIG_SCHEMA = {
  $schema: "https://json-schema.org/draft/2020-12/schema",
  $id: "https://deskphone.invalid/config.schema.json",
  title: "deskphone configuration (/etc/deskphone/config.yaml)",
  description: "Generated from firmware/app/config-schema.ts; reference: docs/configuration.md",
  type: "object",
  additionalProperties: false,
  required: ["account", "exchange"],
  properties: {
    account: {
      type: "object",
      additionalProperties: false,
      required: ["user"],
      default: {},
      properties: {
        user: {
          ...text,
          pattern: "^[A-Za-z0-9._~+-]{1,64}$",
          "x-reason": "expected 1-64 of A-Z a-z 0-9 . _ ~ + -",
          "x-missing": "required: the phone's SIP user",
        },
        password: { ...text, description: "digest password; or passwordFile, not both" },
        passwordFile: { type: "string", description: "a file holding the password (chmod 600)" },
        displayName: { ...text },
      },
    },
    exchange: {
      type: "object",
      additionalProperties: false,
      required: ["url"],
      default: {},
      properties: {
        url: {
          type: "string",
          pattern: "^wss?://[^/\\s]+",
          "x-reason": "expected a ws:// or wss:// URL",
          "x-missing": "required: the exchange's WebSocket URL",
        },
        caFile: { type: "string", description: "PEM file with the CA of the exchange" },
        rejectUnauthorized: { type: "boolean", default: true },
        trustedHosts: {
          deprecated: true,
          description:
            "Retired and ignored: an emergency mark counts when it arrives over the verified connection to exchange.url.",
        },
        registerExpires: { type: "number", minimum: 30, maximum: 86400, default: 300 },
      },
    },
    audio: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        ringer: device(48000, "ringer speaker"),
        earpiece: device(8000, "handset earpiece"),
        microphone: device(8000, "handset microphone"),
        ringerVolumeDb: { type: "number", minimum: -60, maximum: 0, default: -6 },
        nativeRinger: {
          type: "boolean",
          default: true,
          description: "the ringer in-process (native/alsa-pcm), kept open for a fast start",
        },
        callMediaThread: {
          type: "boolean",
          default: true,
          description:
            "call media (RTP, earpiece, microphone) on a native thread (native/call-media)",
        },
        rtpPorts: {
          description: "[low, high]",
          type: "array",
          items: { type: "integer", minimum: 1024, maximum: 65534 },
          minItems: 2,
          maxItems: 2,
          default: [16384, 32766],
          "x-reason": "expected [low, high], 1024–65534, low < high",
        },
        mediaAddress: { type: "string", description: "the address put in SDP" },
        mediaTimeoutS: {
          type: "number",
          minimum: 1,
          maximum: 3600,
          default: 30,
          description: "a call with no RTP and no RTCP from the far end this long is ended (s)",
        },
      },
    },
    hal: HAL_SCHEMA,
    alerting: ALERTING_SCHEMA,
    phone: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        dnd: { type: "boolean", default: false },
        interDigitMs: { type: "number", minimum: 1000, maximum: 30000, default: 4000 },
      },
    },
    journal: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        path: { type: "string", default: "/var/lib/deskphone/journal.jsonl" },
        maxBytes: { type: "number", minimum: 16384, maximum: 1073741824, default: 1048576 },
      },
    },
    bench: {
      type: "object",
      additionalProperties: false,
      default: {},
      properties: {
        listen: {
          type: "string",
          pattern: "^[^:\\s]+:\\d{1,5}$",
          default: "127.0.0.1:8088",
          "x-reason": "expected HOST:PORT",
        },
        token: {
          type: "string",
          pattern: "^[A-Za-z0-9._~+/=-]{16,128}$",
          description:
            "Bearer token of the bench API; required beyond loopback (generated and printed at start when absent)",
          "x-reason":
            "expected 16-128 of A-Z a-z 0-9 . _ ~ + / = - (a bearer token, RFC 6750 §2.1)",
        },
      },
    },
  },
  "x-reason": {
    type: "expected a mapping at the top of the file",
    additionalProperties: "unknown section (known: {known})",
  },
} as const;

/** A config document once the schema has passed it and filled in its defaults. */
export type ConfigDocument = FromSchema<typeof CONFIG_SCHEMA>;
