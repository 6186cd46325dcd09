// sip.js 0.21.2's header parser, built once instead of on every header.
//
// sip.js parses each header with a generated PEG parser (Peggy, "optimize:
// size" output): lib/grammar/pegjs/dist/grammar.js. Its one function,
// peg$parse(input, options), builds all its tables on every call before it
// reads a character: about 800 constants (strings, expectations, character
// classes, actions) and 230 rules' bytecode decoded from strings. That costs
// about 0.28 ms per header on a desk-phone-class core, a dozen times per
// INVITE (docs/sip.md, "INVITE → 180").
//
// This script rewrites that file so the tables are built once, when the
// module loads: peg$parse becomes the function returned by peg$makeParser(),
// whose per-call state (input, options, positions, failure bookkeeping) is
// reset at the start of every call. The grammar, its bytecode and its actions
// are untouched, so what is accepted, rejected and returned is the same; a
// parse that starts while another is running (an action that parses) gets a
// parser of its own. The untouched file is kept beside it as
// grammar.pristine.js (test/sip/sipjs-grammar.test.ts compares the two).
//
// Run by `npm ci` / `npm install` (the "postinstall" script) and by
// scripts/build-deb.sh. Idempotent. Fails when sip.js is not the version this
// was written for: a new sip.js needs this script looked at again.
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), "..");
const pkg = join(root, "node_modules", "sip.js");
const file = join(pkg, "lib", "grammar", "pegjs", "dist", "grammar.js");
const pristine = join(dirname(file), "grammar.pristine.js");
const VERSION = "0.21.2";
const PRISTINE_SHA256 = "66f6eabdcec39bfe90b9dbf3104e42af6169a6f4f5a1773694fce36c0262ab03";
const MARK = "// deskphone: tables built once (scripts/patch-sipjs.mjs)\n";

const fail = (why) => {
  console.error(`patch-sipjs: ${why}`);
  process.exit(1);
};
if (!existsSync(file)) fail(`${file} is missing: is sip.js installed?`);
const version = JSON.parse(readFileSync(join(pkg, "package.json"), "utf8")).version;
if (version !== VERSION)
  fail(`sip.js is ${version}, this patch is for ${VERSION}: look at it again`);
let text = readFileSync(file, "utf8");
if (text.startsWith(MARK)) process.exit(0);
const sha = createHash("sha256").update(text).digest("hex");
if (sha !== PRISTINE_SHA256) fail(`${file} is not sip.js ${VERSION}'s (sha256 ${sha})`);

/** Each [before, after] must match exactly once. */
const edits = [
  [
    // The parser's tables and helpers live in a closure made once.
    `function peg$parse(input, options) {
    options = options !== undefined ? options : {};
    const peg$FAILED = {};
    const peg$source = options.grammarSource;
`,
    `function peg$makeParser() {
    let input;
    let options;
    let peg$busy = false;
    const peg$FAILED = {};
    let peg$source;
`,
  ],
  ["    let peg$startRuleIndex = 119;\n", "    let peg$startRuleIndex;\n"],
  [
    `    let peg$currPos = 0;
    let peg$savedPos = 0;
    const peg$posDetailsCache = [{ line: 1, column: 1 }];
    let peg$maxFailPos = 0;
    let peg$maxFailExpected = [];
    let peg$silentFails = 0;
    let peg$result;
    if (options.startRule !== undefined) {`,
    `    let peg$currPos;
    let peg$savedPos;
    let peg$posDetailsCache;
    let peg$maxFailPos;
    let peg$maxFailExpected;
    let peg$silentFails;
    let peg$result;
    function peg$start() {
    if (options.startRule !== undefined) {`,
  ],
  [
    `        peg$startRuleIndex = peg$startRuleIndices[options.startRule];
    }
    function text() {`,
    `        peg$startRuleIndex = peg$startRuleIndices[options.startRule];
    }
    }
    function text() {`,
  ],
  [
    `    options.data = {}; // Object to which header attributes will be assigned during parsing
    function list(head, tail) {
        return [head].concat(tail);
    }
    peg$result = peg$parseRule(peg$startRuleIndex);`,
    `    function list(head, tail) {
        return [head].concat(tail);
    }
    function peg$run() {
    peg$start();
    options.data = {}; // Object to which header attributes will be assigned during parsing
    peg$result = peg$parseRule(peg$startRuleIndex);`,
  ],
  [
    `            : peg$computeLocation(peg$maxFailPos, peg$maxFailPos));
    }
}
export const parse = peg$parse;`,
    // Every call starts from the state a fresh peg$parse started from.
    `            : peg$computeLocation(peg$maxFailPos, peg$maxFailPos));
    }
    }
    return function peg$parse(input1, options1) {
        if (peg$busy) return peg$makeParser()(input1, options1);
        input = input1;
        options = options1 !== undefined ? options1 : {};
        peg$source = options.grammarSource;
        peg$startRuleIndex = 119;
        peg$currPos = 0;
        peg$savedPos = 0;
        peg$posDetailsCache = [{ line: 1, column: 1 }];
        peg$maxFailPos = 0;
        peg$maxFailExpected = [];
        peg$silentFails = 0;
        peg$result = undefined;
        peg$busy = true;
        try {
            return peg$run();
        }
        finally {
            peg$busy = false;
            input = undefined;
            options = undefined;
        }
    };
}
export const parse = peg$makeParser();`,
  ],
];
for (const [before, after] of edits) {
  const n = text.split(before).length - 1;
  if (n !== 1) fail(`expected one "${before.split("\n")[0].trim()}…", found ${n}`);
  text = text.replace(before, () => after);
}
copyFileSync(file, pristine);
writeFileSync(file, MARK + text);
console.log(`patch-sipjs: sip.js ${VERSION}'s header parser now builds its tables once`);
