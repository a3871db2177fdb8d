import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { cli, oneJson } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';

/**
 * A governed state migration on a running node, through the CLI (ADR 0029): a chain whose genesis
 * predates state versions runs the market at version 1; the operator proposes version 2 for a stated
 * height with `tx registry propose-migration`; `query modules` shows it scheduled, then in force. A
 * later version this node's code lacks is accepted as a proposal (validity never depends on the code
 * a node runs) and the node stops at that height, saying which version it lacks, with nothing of the
 * block committed.
 */

let home: string;
let running: RunningNode;
/** The newest market state version of this build (what `init` wrote into the genesis). */
let latest: number;
const fatal: Error[] = [];

const gl = async (args: string[]) => {
  const r = await cli(['--home', home, '--node', running.url, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};
const height = async () => (await callRoute(running.url, coreRoutes.status, {})).height;
const market = async () => (await callRoute(running.url, coreRoutes.modules, {})).modules.find((m) => m.name === 'market')!;
async function until<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  ({ home } = makeHome());
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.consensus.emptyBlockIntervalMs = 250;
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  // A chain whose genesis names no state versions: every module starts at version 1.
  const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
  expect(genesis.stateVersions.market).toBeGreaterThanOrEqual(2);
  latest = genesis.stateVersions.market;
  delete genesis.stateVersions;
  writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
  running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }), anchorService: false, onFatal: (err) => fatal.push(err) });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

describe('a governed state migration on a running node', () => {
  it('moves the market to state version 2 at the stated height; `query modules` shows it scheduled, then in force', async () => {
    expect(await market()).toMatchObject({ active: true, stateVersion: 1, latestStateVersion: latest });
    expect((await gl(['query', 'modules'])).stdout).toMatch(new RegExp(`^market\\s+active {2}state v1 \\(this node: up to v${latest}\\)`, 'm'));
    const at = (await height()) + 40; // ~10 s of empty blocks: time for the CLI calls below on a busy machine
    const proposed = oneJson(await gl(['-o', 'json', '--wait', '--wait-seconds', '30', 'tx', 'registry', 'propose-migration', '--id', 'market-due', '--module', 'market', '--state-version', '2', '--height', String(at)]));
    expect(proposed.result.code).toBe('OK');
    expect((await callRoute(running.url, coreRoutes.modules, {})).scheduled).toEqual([{ module: 'market', kind: 'migrate', stateVersion: 2, height: at }]);
    const scheduled = oneJson(await gl(['-o', 'json', 'query', 'modules']));
    expect(scheduled.scheduled).toEqual([{ module: 'market', kind: 'migrate', stateVersion: 2, height: at }]);
    expect((await gl(['query', 'modules'])).stdout).toContain(`scheduled: migrate market to state version 2 at height ${at}`);
    await until(`height ${at}`, async () => (await height()) >= at);
    expect(await market()).toMatchObject({ stateVersion: 2, latestStateVersion: latest });
    expect((await gl(['query', 'modules'])).stdout).toMatch(/^market\s+active {2}state v2[ (]/m);
    const again = await cli(['--home', home, '--node', running.url, '-o', 'json', '--wait', '--wait-seconds', '30', 'tx', 'registry', 'propose-migration', '--id', 'again', '--module', 'market', '--state-version', '2', '--height', String((await height()) + 30)]);
    expect(again.code).not.toBe(0);
    expect(JSON.parse(again.stdout || again.stderr).error.code).toBe('STATE_VERSION_NOT_NEWER');
    // propose-activation without --state-version names the newest version the node asked runs (here refused: market is active).
    const act = await cli(['--home', home, '--node', running.url, '-o', 'json', '--wait', '--wait-seconds', '30', 'tx', 'registry', 'propose-activation', '--id', 'act', '--module', 'market', '--height', String((await height()) + 30)]);
    const refused = JSON.parse(act.stdout || act.stderr).error;
    expect(refused.code).toBe('MODULE_ALREADY_ACTIVE');
    const hash = /tx ([0-9a-f]{64})/.exec(refused.message)![1]!;
    const committed = await callRoute(running.url, coreRoutes.getTx, { params: { hash }, query: { wait: 0 } });
    const block = (await callRoute(running.url, coreRoutes.getBlock, { params: { height: committed.height! } })) as unknown as { block: { txs: Array<{ body: { msgs: Array<{ value: { action: unknown } }> } }> } };
    expect(block.block.txs[committed.index!]!.body.msgs[0]!.value.action).toEqual({ kind: 'activate-module', module: 'market', height: expect.any(Number), stateVersion: latest });
  }, 90_000);

  it('a version this code lacks: accepted as a proposal; the node stops before committing the block that would apply it', async () => {
    const at = (await height()) + 30;
    const proposed = oneJson(await gl(['-o', 'json', '--wait', '--wait-seconds', '30', 'tx', 'registry', 'propose-migration', '--id', 'beyond', '--module', 'market', '--state-version', String(latest + 1), '--height', String(at)]));
    expect(proposed.result.code).toBe('OK');
    await until('the node to stop', async () => fatal.length > 0);
    expect((fatal[0] as { code?: string }).code).toBe('STATE_VERSION_UNSUPPORTED');
    expect(fatal[0]!.message).toMatch(new RegExp(`market to state version ${latest + 1} after block \\d+; this node's code executes up to version ${latest}: upgrade the node`));
    // The migration applies at the end of block at − 1: that block is never committed here.
    expect(await height()).toBe(at - 2);
    expect(await market()).toMatchObject({ stateVersion: 2 });
  }, 60_000);
});
