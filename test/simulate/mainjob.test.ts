/**
 * The main job (issue 10 #5): `gridledger devnet --simulate FILE`, as `npm start` runs it — four
 * validators, the demo community simulated on node0 (backfill, then real time), the dashboard URL in
 * the banner; the community's readings reach every validator; Ctrl-C (SIGTERM) stops the
 * simulation with the nodes; a bad scenario is refused before any node starts.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import type { DevnetManifest } from '../../src/runtime/devnet.js';
import { freeBasePort, waitFor } from '../devnet/harness.js';
import { BIN, cleanEnv, isAlive, Proc, REPO } from '../firsthour/helpers.js';

const root = mkdtempSync(join(tmpdir(), 'gridledger-mainjob-'));
const started: Proc[] = [];
const pids = new Set<number>();
const SCENARIO = 'sim/community/scenarios/demo.json';

afterAll(async () => {
  for (const p of started) if (!p.done) p.child.kill('SIGKILL');
  for (const pid of pids) if (isAlive(pid) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('gridledger')) process.kill(pid, 'SIGKILL');
  rmSync(root, { recursive: true, force: true });
}, 30_000);

function devnet(args: string[]): Proc {
  const p = new Proc(spawn(process.execPath, [BIN, 'devnet', ...args], { cwd: REPO, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  started.push(p);
  if (p.child.pid) pids.add(p.child.pid);
  return p;
}

describe.sequential('main job: the devnet with a simulated community', () => {
  it('npm start runs exactly this', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.start).toBe(`exec node bin/gridledger.mjs devnet --validators 4 --dir .gridledger-devnet --simulate ${SCENARIO}`);
  });

  it('a scenario that cannot be read is refused before any node starts', async () => {
    const dir = join(root, 'bad');
    const p = devnet(['--dir', dir, '--simulate', join(root, 'missing.json')]);
    expect((await p.exited).code).toBe(1);
    expect(p.stderr).toMatch(/SIMULATE_SCENARIO_UNREADABLE/);
    expect(existsSync(join(dir, 'devnet.json'))).toBe(false);
  });

  it('four validators, the dashboard URL, the demo community backfilled on node0 and seen by node3; SIGTERM stops everything', async () => {
    const dir = join(root, 'main');
    const base = await freeBasePort(4);
    const p = devnet(['--dir', dir, '--validators', '4', '--base-port', String(base), '--simulate', SCENARIO, '--simulate-days', '1']);
    await p.waitFor(/every API answers/, 'the banner', 180_000);
    expect(p.stdout).toContain(`Dashboard: http://127.0.0.1:${base}/`);
    const manifest = JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as DevnetManifest;
    for (const n of manifest.nodes) if (n.pid) pids.add(n.pid);
    // The backfill summary: 12 households and the plant, 96 slots each, nothing rejected.
    const m = await p.waitFor(/readings\s+(\d+) of (\d+) accepted/, 'the backfill summary', 300_000);
    expect(m[1]).toBe(m[2]);
    expect(Number(m[1])).toBeGreaterThanOrEqual(13 * 96);
    expect(p.stderr).toMatch(/created\s+the community, 26 accounts, 13 traders, 13 meters/);
    expect(p.stderr).not.toMatch(/rejected/);
    // Another validator has the community and every meter's readings.
    const node3 = manifest.nodes[3]!.api;
    const c = await waitFor(() => callRoute(node3, energyRoutes.getCommunity, { params: { id: 'wieden' } }), 'the community on node3', 60_000);
    expect(c.traders).toHaveLength(13);
    const meter = await waitFor(async () => {
      const r = await callRoute(node3, meteringRoutes.getMeter, { params: { meterId: 'wieden.roof-1' } });
      return r.meter.readings >= 96 ? r.meter : null;
    }, 'the plant meter readings on node3', 60_000);
    expect(meter.readings).toBeGreaterThanOrEqual(96);

    p.child.kill('SIGTERM');
    expect(await p.exited).toEqual({ code: 0, signal: null });
    for (const n of manifest.nodes) if (n.pid) await waitFor(() => !isAlive(n.pid!), `${n.name} stopped`, 30_000, 100);
  }, 600_000);
});
