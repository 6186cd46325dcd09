// Loads a TypeScript entry point of this package through tsx, so the
// commands run straight from the sources on the phone and in the lab.
import { register } from "tsx/esm/api";

register();
export function runTs(relative) {
  return import(new URL(`../${relative}`, import.meta.url).href);
}
