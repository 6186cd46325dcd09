/**
 * The JSON Schema of the config's `hal` section: which backend reads the
 * hook switch, the keypad and the LEDs, and where each is wired
 * (docs/wiring.md). Part of config-schema.ts, the one description of the
 * config; `x-reason` and `x-missing` are the words users read (config-errors.ts).
 */
import { KEY_NAMES, LED_NAMES } from "../../hal/contracts.ts";

const LINE = {
  type: "string",
  pattern: "^[A-Za-z0-9_.-]{1,31}$",
  "x-reason": "expected a line name such as GPIO17",
} as const;

const KEYMAP = {
  description: "rows of key names (null where no key sits); default: the phone's keypad",
  type: "array",
  items: { type: "array", items: { enum: [...KEY_NAMES, null] } },
  "x-reason": `expected rows of keys (${KEY_NAMES.join(" ")}) or null`,
} as const;

const NOT_A_KEY = `not a key (${KEY_NAMES.join(" ")})`;
const NOT_AN_LED = `not an LED (${LED_NAMES.join(", ")})`;
const LED_MAP = "expected { status: 0, line: 1, … }";
const MATRIX = "expected rows: [...] and cols: [...] line names";

const GPIO = {
  type: "object",
  additionalProperties: false,
  required: ["chip", "hook"],
  properties: {
    chip: {
      type: "string",
      minLength: 1,
      "x-reason": "expected the chip's label, e.g. pinctrl-bcm2711 (Pi 4) or pinctrl-rp1 (Pi 5)",
    },
    hook: LINE,
    hookActiveLow: { type: "boolean", default: true },
    keys: {
      description: "a key wired straight to a line: key name → line name",
      type: "object",
      propertyNames: { enum: KEY_NAMES },
      additionalProperties: LINE,
      "x-reason": { propertyNames: NOT_A_KEY },
    },
    matrix: {
      description: "a CPU-scanned key matrix (gpio backend only)",
      type: "object",
      additionalProperties: false,
      required: ["rows", "cols"],
      properties: {
        rows: { type: "array", items: LINE, minItems: 1, "x-reason": { minItems: MATRIX } },
        cols: { type: "array", items: LINE, minItems: 1, "x-reason": { minItems: MATRIX } },
        keymap: KEYMAP,
      },
      "x-reason": { required: MATRIX },
    },
    leds: {
      description: "an LED wired straight to a line: LED name → line name",
      type: "object",
      propertyNames: { enum: LED_NAMES },
      additionalProperties: LINE,
      "x-reason": { propertyNames: NOT_AN_LED },
    },
  },
} as const;

const I2C = {
  type: "object",
  additionalProperties: false,
  required: ["bus"],
  properties: {
    bus: {
      type: "integer",
      minimum: 0,
      "x-reason": "expected the bus number (1 is the Pi's header bus)",
    },
    keypad: {
      type: "object",
      additionalProperties: false,
      required: ["chip"],
      properties: {
        chip: { enum: ["tca8418", "mcp23017"], "x-reason": 'expected "tca8418" or "mcp23017"' },
        address: { type: "integer", description: "default: 0x34 (TCA8418), 0x20 (MCP23017)" },
        keymap: KEYMAP,
        interrupt: {
          ...LINE,
          description:
            "the line on gpio.chip the TCA8418's INT is wired to: read on its edge; none: polled every 20 ms",
        },
      },
      if: { type: "object", properties: { chip: { const: "mcp23017" } }, required: ["chip"] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then/else, not a promise
      then: {
        type: "object",
        properties: {
          address: {
            type: "integer",
            minimum: 0x20,
            maximum: 0x27,
            "x-reason": "expected an address from 0x20 to 0x27",
          },
        },
      },
      else: {
        type: "object",
        properties: {
          address: { const: 0x34, "x-reason": "expected an address from 0x34 to 0x34" },
        },
      },
    },
    leds: {
      type: "object",
      additionalProperties: false,
      required: ["chip", "map"],
      properties: {
        chip: { const: "pca9532", "x-reason": 'expected "pca9532"' },
        address: {
          type: "integer",
          minimum: 0x60,
          maximum: 0x67,
          default: 0x60,
          "x-reason": "expected an address from 0x60 to 0x67",
        },
        map: {
          description: "LED name → output of the PCA9532 (0-15)",
          type: "object",
          propertyNames: { enum: LED_NAMES },
          additionalProperties: {
            type: "integer",
            minimum: 0,
            maximum: 15,
            "x-reason": "expected an LED output 0-15",
          },
          "x-missing": LED_MAP,
          "x-reason": { type: LED_MAP, propertyNames: NOT_AN_LED },
        },
      },
    },
  },
} as const;

const ms = (minimum: number, maximum: number, dflt: number) =>
  ({
    type: "number",
    minimum,
    maximum,
    default: dflt,
    "x-reason": `expected ${minimum}-${maximum} ms`,
  }) as const;

export const HAL_SCHEMA = {
  description: "the handset's wiring (docs/wiring.md)",
  type: "object",
  additionalProperties: false,
  default: {},
  properties: {
    backend: {
      enum: ["mock", "gpio", "sysfs"],
      default: "mock",
      "x-reason":
        'expected "mock", "gpio" (GPIO character device) or "sysfs" (onoff, older kernels)',
    },
    gpio: GPIO,
    i2c: I2C,
    timing: {
      description: "hook debounce and the window a hook flash falls in",
      type: "object",
      additionalProperties: false,
      properties: {
        debounceMs: ms(5, 100, 25),
        flashMinMs: ms(50, 500, 100),
        flashMaxMs: ms(200, 2000, 900),
      },
    },
  },
} as const;
