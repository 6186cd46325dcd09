// Loads a command's compiled JavaScript from build/ (scripts/build.mjs).
// Without a build it says how to make one instead of a module-not-found trace.
export async function loadBuilt(name) {
  const url = new URL(`../build/${name}.mjs`, import.meta.url);
  try {
    return await import(url.href);
  } catch (e) {
    if (e?.code === "ERR_MODULE_NOT_FOUND" && e.message.includes(`build/${name}.mjs`)) {
      process.stderr.write(
        `${name}: build/${name}.mjs is missing: run "npm run build" (npm ci does it) in ${new URL("..", import.meta.url).pathname}\n`,
      );
      process.exit(70);
    }
    throw e;
  }
}
