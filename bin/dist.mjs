// Is dist/ the compiled form of exactly the current src/? Shared by bin/build.mjs (which writes
// dist/.stamp.json) and bin/gridledger.mjs (which runs dist/ only when the stamp matches).
//
// The stamp lists every file of src/ with its size, modification time and SHA-256, and the hash of
// the build script. A check stats every source file (a few ms) and hashes only those whose time
// changed (a checkout or `touch` changes times, not contents): any added, removed or changed file,
// or a changed build script, makes dist/ stale.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const STAMP = '.stamp.json';
const BUILD_SCRIPT = fileURLToPath(new URL('./build.mjs', import.meta.url));

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Every file below `dir` as a sorted list of paths relative to it (with forward slashes). */
export function listFiles(dir) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(dir.length + 1).split('\\').join('/'))
    .sort();
}

/** The stamp of `src` as it is now (written by the build before it compiles). */
export function snapshot(src) {
  const files = {};
  for (const rel of listFiles(src)) {
    const path = join(src, rel);
    const st = statSync(path);
    files[rel] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(readFileSync(path)) };
  }
  return { version: 1, builder: sha256(readFileSync(BUILD_SCRIPT)), files };
}

/**
 * { fresh: true } when `dist` was built from exactly the files now in `src`, else
 * { fresh: false, reason } saying what differs first.
 */
export function distStatus(src, dist) {
  const stampPath = join(dist, STAMP);
  if (!existsSync(stampPath)) return { fresh: false, reason: 'dist/ is not built' };
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
  } catch {
    return { fresh: false, reason: 'dist/.stamp.json is damaged' };
  }
  if (stamp.version !== 1 || !stamp.files) return { fresh: false, reason: 'dist/ was built by another version of the build' };
  if (stamp.builder !== sha256(readFileSync(BUILD_SCRIPT))) return { fresh: false, reason: 'bin/build.mjs changed since dist/ was built' };
  const now = listFiles(src);
  const built = Object.keys(stamp.files);
  if (now.length !== built.length || now.some((f, i) => f !== built[i])) {
    const added = now.find((f) => !(f in stamp.files));
    const removed = built.find((f) => !now.includes(f));
    return { fresh: false, reason: added ? `src/${added} is newer than dist/` : `src/${removed} was removed since dist/ was built` };
  }
  for (const rel of now) {
    const was = stamp.files[rel];
    const st = statSync(join(src, rel));
    if (st.size !== was.size) return { fresh: false, reason: `src/${rel} changed since dist/ was built` };
    if (st.mtimeMs === was.mtimeMs) continue;
    if (sha256(readFileSync(join(src, rel))) !== was.sha256) return { fresh: false, reason: `src/${rel} changed since dist/ was built` };
  }
  return { fresh: true };
}
