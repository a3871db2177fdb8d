// Shared by the node's worker threads (signature checks, state tree): what they report with their
// answers (issue 18's per-thread CPU split: this thread's CPU clock and its Linux thread id), and how
// they load a module of src/. Plain JavaScript, loaded by the workers before tsx is.
import { existsSync, openSync, readlinkSync, readSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** This thread's CPU clock (ms): its schedstat run time on Linux, else the wall clock. */
export let cpuNow = () => performance.now();
try {
  const fd = openSync('/proc/thread-self/schedstat', 'r');
  const buf = Buffer.alloc(96);
  cpuNow = () => {
    const n = readSync(fd, buf, 0, buf.length, 0);
    return Number(buf.toString('latin1', 0, n).split(' ')[0]) / 1e6;
  };
} catch {
  /* not Linux: wall clock */
}

/** /proc/thread-self links to /proc/<pid>/task/<tid>: the node's CPU report reads this thread's CPU by its id. */
export function threadId() {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined; // not Linux
  }
}

/**
 * Imports a module of src/ from a worker: in dist/ the compiled JavaScript next to this file, in src/
 * the TypeScript through tsx. `relative` is the path without extension, from this folder.
 */
export async function importSource(relative) {
  const compiled = new URL(`${relative}.js`, import.meta.url);
  if (existsSync(fileURLToPath(compiled))) return import(compiled.href);
  const { register } = await import('tsx/esm/api');
  register();
  return import(new URL(`${relative}.ts`, import.meta.url).href);
}
