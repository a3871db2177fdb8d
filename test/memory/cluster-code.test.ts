/**
 * Issue 9, soak run 2: the batteries' nodes (scripts/lib/cluster.ts) were started through
 * bin/gridledger.mjs, which chooses at every start between dist/ and the TypeScript sources. A merge
 * into the checkout during the soak changed src/, so every node restarted after it ran from the
 * sources through tsx (~100–130 MiB more RSS, and other code than its peers), which the soak read as
 * RSS growth after a catch-up. The cluster now pins the compiled CLI when it is created: a restart
 * runs the same compiled code whatever happens to src/ meanwhile.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nodeCommand, pinCompiledCode } from '../../scripts/lib/cluster.js';
import { cleanEnv } from '../firsthour/helpers.js';
import { OneFileProject } from '../helpers/one-file-project.js';

const run = promisify(execFile);

describe('a cluster pins the compiled CLI for every start of its nodes (a project of one file)', () => {
  let project: OneFileProject;
  let root: string;
  beforeAll(() => {
    project = new OneFileProject('gridledger-cluster-code-');
    root = project.root;
  });
  afterAll(() => project.remove());
  const writeMain = (version: string) => project.writeMain(version);

  /** What a node started with the cluster's command line runs. */
  async function nodeRuns(code: ReturnType<typeof pinCompiledCode>): Promise<{ url: string; version: string; args: string[] }> {
    const [exe, ...args] = nodeCommand({ home: '/tmp/home-of-node0', code });
    const { stdout } = await run(exe!, args, { cwd: root, env: cleanEnv() });
    return JSON.parse(stdout.trim());
  }
  const fromDist = expect.stringMatching(/\/dist\/cli\/main\.js$/);

  it('builds dist/ when it is missing, and starts `start` on the compiled CLI', async () => {
    const code = pinCompiledCode(root);
    expect(await nodeRuns(code)).toEqual({ url: fromDist, version: 'v1', args: ['--home', '/tmp/home-of-node0', 'start'] });
  }, 60_000);

  it('a source changed after the cluster started does not change what a restarted node runs', async () => {
    const code = pinCompiledCode(root);
    writeMain('v2');
    // bin/gridledger.mjs itself would now run the sources (v2) through tsx …
    const viaBin = await run(process.execPath, [join(root, 'bin', 'gridledger.mjs'), 'x'], { cwd: root, env: cleanEnv() });
    expect(JSON.parse(viaBin.stdout.trim())).toMatchObject({ url: expect.stringMatching(/\/src\/cli\/main\.ts$/), version: 'v2' });
    // … a restarted cluster node runs the compiled code its peers were started on.
    expect(await nodeRuns(code)).toMatchObject({ url: fromDist, version: 'v1' });
    expect(code.changedSince()).toBe(false);
  }, 60_000);

  it('without building, a stale dist/ is refused; a rebuild during the run is noticed', async () => {
    expect(() => pinCompiledCode(root, { build: false })).toThrow(/not the compiled form of src\/.*main\.ts changed/);
    writeMain('v1'); // the sources dist/ was built from again
    const code = pinCompiledCode(root, { build: false });
    writeMain('v3');
    pinCompiledCode(root); // someone runs `npm run build` mid-run
    expect(code.changedSince()).toBe(true);
  }, 60_000);
});
