import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type Msg } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { cli, oneJson } from '../foundation/cli-helpers.js';
import { makeHome } from '../helpers/node.js';
import { blockWith, until } from './helpers.js';

/**
 * The operator's commands as docs/anchor.md walks through them, each a real `gridledger` process:
 * anchor init (seed, operator key, anchor.json), admission of the operator, a meter reading with a
 * sample fingerprint, anchor run --once
 * (offline), query anchor, anchor inclusion from bitcoind-style block output, tx anchor confirm with a
 * header and a branch, verify anchor (by height, and by the fingerprint), anchor wallet.
 */

const K = 5;
let home: string;
let running: RunningNode;
const FINGERPRINT = 'f1'.repeat(32);

/** Signs with a key of the home and waits for the commit (the meter's reading, as the edge agent sends it). */
async function submitAs(name: string, msgs: Msg[]): Promise<void> {
  const keyring = openKeyring(home, 'test');
  const sender = keyring.show(name).address;
  const nonce = await callRoute(running.url, coreRoutes.accountNonce, { params: { address: sender } });
  const tx = signTx({ chainId: running.node.chainId, sender, nonce: nonce.next, expiresAtHeight: nonce.height + 100, msgs, memo: '' }, keyring.signer(name));
  const { hash } = await callRoute(running.url, coreRoutes.submitTx, { body: tx });
  const res = await callRoute(running.url, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
  expect(res.result?.code, res.result?.message).toBe('OK');
}

beforeAll(async () => {
  ({ home } = makeHome());
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.consensus.emptyBlockIntervalMs = 100;
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
  genesis.modules.anchor = { checkpointInterval: K, network: 'regtest' };
  genesis.accounts.push({ address: openKeyring(home, 'test').add('meter1').address, roles: ['meter'] });
  writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
  running = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }), anchorService: false });
}, 60_000);

afterAll(async () => {
  await running?.stop();
  if (home) rmSync(home, { recursive: true, force: true });
});

const gl = async (args: string[]) => {
  const r = await cli(['--home', home, '--node', running.url, ...args]);
  expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
  return r;
};

describe('gridledger anchor … (operator walk-through, offline backend)', () => {
  it('init, admit, run once, query, confirm, verify', async () => {
    const init = oneJson(await gl(['-o', 'json', 'anchor', 'init', '--network', 'regtest', '--funding', `${'ab'.repeat(32)}:0:100000`]));
    expect(init.addresses.map((a: { address: string }) => a.address.slice(0, 6))).toEqual(['bcrt1q', 'bcrt1q']);
    expect(init.addresses[0].path).toBe("m/84'/1'/0'/0/0");
    expect(existsSync(join(home, 'keyring', 'anchor-seed.secret.json'))).toBe(true);
    expect(JSON.parse(readFileSync(join(home, 'anchor.json'), 'utf8'))).toMatchObject({ network: 'regtest', backend: { kind: 'offline', dir: 'anchors' } });
    expect(oneJson(await gl(['-o', 'json', 'anchor', 'wallet']))).toEqual(init);

    await gl(['--wait', 'tx', 'registry', 'admit', init.operator, '--role', 'anchor-operator']);
    // A meter reading with a sample fingerprint: the next checkpoint covers it.
    const meter = openKeyring(home, 'test').show('meter1').address;
    await submitAs('admin', [{ type: 'metering/register', value: { meterId: 'M1', address: meter, maxPowerW: 100_000 } }]);
    const slot = Math.floor(Date.now() / 900_000) - 1;
    await submitAs('meter1', [{ type: 'metering/reading', value: { meterId: 'M1', slot, importWh: 10, exportWh: 0, importRegisterWh: 10, exportRegisterWh: 0, seq: 1, fingerprint: FINGERPRINT, sampleCount: 90 } }]);
    const covering = await until('the checkpoint covering the fingerprint', async () => {
      try {
        return (await callRoute(running.url, anchorRoutes.inclusion, { params: { item: FINGERPRINT } })).checkpoint.height;
      } catch {
        return undefined;
      }
    });
    const ran = oneJson(await gl(['-o', 'json', 'anchor', 'run', '--once']));
    expect(ran.recorded).toContain(covering);
    const height = covering;

    const status = await gl(['query', 'anchor', 'status']);
    expect(status.stdout).toMatch(/network +regtest/);
    const checkpoint = oneJson(await gl(['-o', 'json', 'query', 'anchor', 'checkpoint', String(height)]));
    expect(checkpoint.status).toBe('recorded');
    expect(readFileSync(join(home, 'anchors', `${height}-${checkpoint.anchor.txid}.hex`), 'utf8').trim()).toBe(checkpoint.anchor.rawTx);

    const block = blockWith(checkpoint.anchor.txid, 0, 3);
    const headerFile = join(home, 'header.hex');
    writeFileSync(headerFile, block.header);
    const blockFile = join(home, 'block.json');
    writeFileSync(blockFile, JSON.stringify({ hash: block.hash, height: 7, tx: block.txids }));
    const inclusion = oneJson(await gl(['-o', 'json', 'anchor', 'inclusion', '--txid', checkpoint.anchor.txid, '--block', blockFile, '--header', headerFile]));
    expect(inclusion).toEqual({ blockHeader: block.header, blockHash: block.hash, blockHeight: 7, branch: block.branch });
    await gl(['--from', 'anchor', '--wait', 'tx', 'anchor', 'confirm', '--height', String(height), '--header', headerFile, '--block-height', '7', '--branch', JSON.stringify(block.branch)]);
    const verified = await gl(['verify', 'anchor', '--height', String(height)]);
    expect(verified.stdout).toContain('✓ proof_of_work');
    expect(verified.stdout).toContain(`anchored in Bitcoin block 7 (${block.hash})`);
    const listed = await gl(['query', 'anchor', 'checkpoints']);
    expect(listed.stdout).toContain('confirmed');
    const item = await gl(['verify', 'anchor', '--item', FINGERPRINT]);
    expect(item.stdout).toMatch(new RegExp(`✓ coverage +item ${FINGERPRINT} is leaf 0 of 1`));
    expect(item.stdout).toContain(`anchored in Bitcoin block 7 (${block.hash})`);
  }, 120_000);
});
