/**
 * Issue 19 point 18: the project runs on Node 20, 22 and 24, `engines` says exactly which, and no
 * installed package needs a newer Node than those (npm ci would warn, as it did for cookie@2 via
 * fastify → light-my-request). The lock file is checked against the lowest release of each line
 * the engines allow; .ci/run also runs unit tests on Node 24 itself.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers.js';

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
const range = pkg.engines.node;
/** The lowest release of each major line the engines allow, e.g. 20.19.0, 22.13.0, 24.0.0. */
const lowest = range.split('||').map((part) => semver.minVersion(part.trim())!.version);

describe('Node versions', () => {
  it('engines name exactly the LTS lines 20, 22 and 24, and this Node is one of them', () => {
    expect(lowest.map((v) => semver.major(v))).toEqual([20, 22, 24]);
    expect(semver.satisfies('25.0.0', range)).toBe(false);
    expect(semver.satisfies('21.7.0', range)).toBe(false);
    expect(semver.satisfies('18.20.0', range)).toBe(false);
    expect(semver.satisfies(process.version, range), `${process.version} is within ${range}`).toBe(true);
    expect((lock.packages[''] as { engines?: { node?: string } }).engines?.node).toBe(range);
  });

  it('every package in the lock file runs on the lowest release of each line (no EBADENGINE in npm ci)', () => {
    const misfits: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || Array.isArray(entry.engines)) continue;
      const needs = entry.engines?.node;
      if (!needs) continue;
      for (const v of lowest) if (!semver.satisfies(v, needs)) misfits.push(`${path.replace(/^.*node_modules\//, '')}@${entry.version} needs node ${needs}, not ${v}`);
    }
    expect(misfits).toEqual([]);
  });
});
