/**
 * The in-process test files share one module graph per worker (vitest.config.ts, `isolate: false`),
 * so a file that replaces a module with `vi.mock` would either miss modules another file loaded
 * first or leak its replacement into the next file: such files must be listed to run isolated.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { MODULE_MOCK_TESTS } from '../../vitest.config.js';

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
