import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { localDayDigest } from './digest.js';

const run = promisify(execFile);

/** Runs test/tz/probe.ts in a child process with its own TZ and locale, Intl and Date made to throw. */
async function probe(env: Record<string, string>): Promise<{ runtimeOffsetMinutes: number; digest: string[] }> {
  const { stdout } = await run(process.execPath, ['bin/run-ts.mjs', 'test/tz/probe.ts'], { env: { ...process.env, ...env }, timeout: 60_000 });
  return JSON.parse(stdout);
}

describe("the runtime's time-zone data does not matter", () => {
  it('gives identical local days under TZ=Pacific/Kiritimati (UTC+14) and TZ=America/Asuncion without Intl or Date', async () => {
    const here = localDayDigest();
    // 1899048 = 2024-02-28T18:00Z, local midnight at +06:00.
    expect(here).toContain('Asia/Almaty 2024-02-29 1899048+100 2024-02-29T00:00:00+06:00 2024-02-29T23:45:00+05:00 2024-02-29');
    const kiritimati = await probe({ TZ: 'Pacific/Kiritimati', LANG: 'de_AT.UTF-8', LC_ALL: 'de_AT.UTF-8' });
    expect(kiritimati.runtimeOffsetMinutes).toBe(-14 * 60); // the child's runtime really is in another zone
    expect(kiritimati.digest).toEqual(here);
    const asuncion = await probe({ TZ: 'America/Asuncion' });
    expect(asuncion.runtimeOffsetMinutes).toBe(3 * 60);
    expect(asuncion.digest).toEqual(here);
  });
});
