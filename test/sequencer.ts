import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Orders the files of each group longest first, so the group's last minutes are not one long file
 * running while the other worker idles. Vitest does that from its own cache of the last run's
 * durations, which a fresh clone (CI) does not have: it then runs the largest files first, and a small
 * file that waits for a devnet for two minutes started last (a suite of 14 min 47 s with the cache took
 * 15 min 28 s without it). Durations come from that cache when it has the file, else from
 * test/durations.json (committed; `npm run test:durations` rewrites it from the cache after a run);
 * a file in neither runs first, as vitest runs unknown files first.
 */

/** `project:path` → milliseconds of a recent run. */
export const DURATIONS_FILE = 'test/durations.json';

function committedDurations(): Record<string, number> {
  try {
    return JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
  } catch {
    return {};
  }
}

export class LongestFirstSequencer extends BaseSequencer {
  private readonly committed = committedDurations();

  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const key = (spec: TestSpecification) => `${spec.project.name}:${relative(this.ctx.config.root, spec.moduleId)}`;
    const cached = (spec: TestSpecification) => this.ctx.cache.getFileTestResults(key(spec));
    const duration = (spec: TestSpecification) => cached(spec)?.duration ?? this.committed[key(spec)] ?? Number.POSITIVE_INFINITY;
    const failed = (spec: TestSpecification) => (cached(spec)?.failed ? 1 : 0);
    const sorted = [...files].sort((a, b) => {
      const group = a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder;
      if (group !== 0) return group;
      if (a.project.name !== b.project.name) return a.project.name < b.project.name ? -1 : 1;
      // Files that failed last time first (as vitest does), then the longest.
      const order = failed(b) - failed(a) || duration(b) - duration(a);
      return Number.isNaN(order) || order === 0 ? (a.moduleId < b.moduleId ? -1 : 1) : order;
    });
    return sorted;
  }
}
