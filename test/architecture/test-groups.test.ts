/**
 * The in-process test files share one module graph per worker (vitest.config.ts, `isolate: false`),
 * so a file that replaces a module with `vi.mock` would either miss modules another file loaded
 * first or leak its replacement into the next file: such files must be listed to run isolated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODULE_MOCK_TESTS } from '../../vitest.config.js';
import { DURATIONS_FILE, LongestFirstSequencer } from '../sequencer.js';

function testFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return testFiles(path);
    return e.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('test groups', () => {
  it('every test file that replaces a module (vi.mock / vi.doMock) runs in a module graph of its own', () => {
    const mocking = testFiles('test').filter((f) => /\bvi\s*\.\s*(mock|doMock|unmock|doUnmock)\s*\(/.test(readFileSync(f, 'utf8')));
    expect(mocking.length).toBeGreaterThan(0);
    expect(mocking.filter((f) => !MODULE_MOCK_TESTS.includes(f))).toEqual([]);
  });

  it('the isolated list names only files that exist', () => {
    for (const f of MODULE_MOCK_TESTS) expect(existsSync(f), f).toBe(true);
  });
});

describe('test order', () => {
  /** A file of a group as the sequencer sees it. */
  const spec = (project: string, groupOrder: number, path: string) => ({ project: { name: project, config: { sequence: { groupOrder } } }, moduleId: `/repo/${path}` });

  it('runs the longest files of each group first from test/durations.json when vitest has no durations of its own (a fresh clone), unknown files before them', async () => {
    const sequencer = new LongestFirstSequencer({ config: { root: '/repo' }, cache: { getFileTestResults: () => undefined } } as never);
    Object.assign(sequencer, { committed: { 'a:test/short.test.ts': 10, 'a:test/long.test.ts': 90_000, 'b:test/x.test.ts': 5 } });
    const files = [spec('b', 1, 'test/x.test.ts'), spec('a', 0, 'test/short.test.ts'), spec('a', 0, 'test/new.test.ts'), spec('a', 0, 'test/long.test.ts')];
    const sorted = await sequencer.sort(files as never);
    expect(sorted.map((s) => (s as unknown as { moduleId: string }).moduleId)).toEqual(['/repo/test/new.test.ts', '/repo/test/long.test.ts', '/repo/test/short.test.ts', '/repo/test/x.test.ts']);
  });

  it("prefers vitest's own durations of the last run on this machine, and runs files that failed first", async () => {
    const cache: Record<string, { duration: number; failed: boolean }> = { 'a:test/short.test.ts': { duration: 200_000, failed: false }, 'a:test/long.test.ts': { duration: 1, failed: false }, 'a:test/broken.test.ts': { duration: 2, failed: true } };
    const sequencer = new LongestFirstSequencer({ config: { root: '/repo' }, cache: { getFileTestResults: (key: string) => cache[key] } } as never);
    Object.assign(sequencer, { committed: { 'a:test/short.test.ts': 10, 'a:test/long.test.ts': 90_000 } });
    const sorted = await sequencer.sort([spec('a', 0, 'test/long.test.ts'), spec('a', 0, 'test/short.test.ts'), spec('a', 0, 'test/broken.test.ts')] as never);
    expect(sorted.map((s) => (s as unknown as { moduleId: string }).moduleId)).toEqual(['/repo/test/broken.test.ts', '/repo/test/short.test.ts', '/repo/test/long.test.ts']);
  });

  it('test/durations.json is what `npm run test:durations` writes: project:file keys of files that exist, in milliseconds', () => {
    const durations = JSON.parse(readFileSync(DURATIONS_FILE, 'utf8')) as Record<string, number>;
    expect(Object.keys(durations).length).toBeGreaterThan(100);
    for (const [key, ms] of Object.entries(durations)) {
      expect(key).toMatch(/^[a-z-]+:test\/.+\.test\.ts$/);
      expect(Number.isInteger(ms) && ms >= 0, key).toBe(true);
    }
  });
});
