/**
 * The CLI end to end, as a user runs it: `node bin/gridledger.mjs … --home DIR -o json` in separate
 * processes, a node started with `start` as a child process, stopped with SIGTERM and restarted.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, freePort, oneJson, startNodeProcess, stopNodeProcess, type CliResult, type NodeProcess } from './cli-helpers.js';
import { account } from '../helpers/chain.js';

/** Expects a failure: non-zero exit, nothing on stdout, exactly one JSON error document on stderr. */
function expectCliError(r: CliResult, code: string, message?: RegExp) {
  expect(r.code, `${r.stdout}\n${r.stderr}`).not.toBe(0);
  expect(r.stdout).toBe('');
  const lines = r.stderr.split('\n').filter((l) => l.length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  const doc = JSON.parse(lines[0]!);
  expect(doc).toEqual({ error: { code, message: expect.any(String) } });
  if (message) expect(doc.error.message).toMatch(message);
  return doc.error as { code: string; message: string };
}

/** Expects success: exit 0, exactly one JSON document on stdout, nothing on stderr. */
function expectCliOk(r: CliResult): any {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  return oneJson(r);
}

describe('CLI: init, keys, start, admit, query, stop, restart, bad input', () => {
  let dir = '';
  let home = '';
  let port = 0;
  let node: NodeProcess | undefined;
  const g = () => ['--home', home, '-o', 'json'];
  const bob = { address: '' };
  let admitHash = '';
  let admitHeight = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-cli-'));
    home = join(dir, 'home');
    port = await freePort();
  });
  afterAll(async () => {
    if (node) await stopNodeProcess(node, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  type Status = { chainId: string; height: number; stateRoot: string; latestBlockHash: string };
  /** `gridledger status` through the CLI. */
  async function cliStatus(): Promise<Status> {
    return expectCliOk(await cli(['status', ...g()])) as Status;
  }
  /** The same over HTTP (cheaper; used for the before/after checks around CLI calls). */
  async function status(): Promise<Status> {
    return (await (await fetch(`http://127.0.0.1:${port}/v1/status`)).json()) as Status;
  }

  it('init creates a home: one JSON document on stdout, keys, genesis and config', async () => {
    const out = expectCliOk(await cli(['init', ...g(), '--chain-id', 'cli-chain', '--keyring-backend', 'test', '--api', `127.0.0.1:${port}`]));
    expect(out).toMatchObject({ home, chainId: 'cli-chain', admin: expect.stringMatching(/^grid1/), validator: expect.stringMatching(/^grid1/) });
    const genesis = JSON.parse(readFileSync(join(home, 'genesis.json'), 'utf8'));
    expect(genesis.chainId).toBe('cli-chain');
    expect(genesis.operators).toEqual([out.admin]);
    expect(genesis.validators.map((v: { address: string }) => v.address)).toEqual([out.validator]);
    for (const k of ['admin', 'node', 'validator']) {
      const path = join(home, 'keyring', `${k}.json`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(path, 'utf8')).backend).toBe('test');
    }
    // faster blocks for the test
    const configPath = join(home, 'config.json');
    const config = JSON.parse(readFileSync(configPath, 'utf8'));
    expect(config.api).toMatchObject({ host: '127.0.0.1', port });
    config.consensus.blockTimeMs = 100;
    config.logLevel = 'warn';
    writeFileSync(configPath, JSON.stringify(config, null, 2));
  });

  it('init refuses an initialised home and a bad chain id', async () => {
    const [exists, badChain, badApi] = await Promise.all([
      cli(['init', ...g(), '--keyring-backend', 'test']),
      cli(['init', '--home', join(dir, 'other'), '-o', 'json', '--chain-id', 'Bad Chain', '--keyring-backend', 'test']),
      cli(['init', '--home', join(dir, 'other2'), '-o', 'json', '--api', 'nonsense']),
    ]);
    expectCliError(exists, 'HOME_EXISTS', /already initialised/);
    expectCliError(badChain, 'CLI_INVALID_OPTION', /chain id/);
    expectCliError(badApi, 'CLI_INVALID_OPTION', /--api expects HOST:PORT/);
  });

  it('keys add, list, show; duplicates and bad names are refused', async () => {
    const added = expectCliOk(await cli(['keys', 'add', 'bob', ...g()]));
    expect(added).toEqual({ name: 'bob', address: expect.stringMatching(/^grid1/), publicKey: expect.stringMatching(/^[0-9a-f]{64}$/) });
    bob.address = added.address;
    const [list, show, dup, bad, missing] = await Promise.all([
      cli(['keys', 'list', ...g()]),
      cli(['keys', 'show', 'bob', ...g()]),
      cli(['keys', 'add', 'bob', ...g()]),
      cli(['keys', 'add', '../evil', ...g()]),
      cli(['keys', 'show', 'nobody', ...g()]),
    ]);
    expect(expectCliOk(list).keys.map((k: { name: string }) => k.name)).toEqual(['admin', 'bob', 'node', 'validator']);
    expect(expectCliOk(show)).toEqual(added);
    expectCliError(dup, 'KEY_EXISTS', /already exists/);
    expectCliError(bad, 'KEY_NAME_INVALID');
    expectCliError(missing, 'KEY_NOT_FOUND');
    expect(expectCliOk(await cli(['keys', 'show', 'bob', ...g()]))).toEqual(added); // unchanged by the refused add
  });

  it('client commands fail cleanly while no node runs (NODE_UNREACHABLE)', async () => {
    expectCliError(await cli(['status', ...g()]), 'NODE_UNREACHABLE', new RegExp(`127\\.0\\.0\\.1:${port}`));
  });

  it('start serves the API; status answers', async () => {
    node = await startNodeProcess(home, port);
    const s = await cliStatus();
    expect(s.chainId).toBe('cli-chain');
    expect(s.stateRoot).toMatch(/^[0-9a-f]{64}$/);
    // a second node on the same home is refused
    const again = await cli(['start', '--home', home, '-o', 'json', '--api', '127.0.0.1:0']);
    expectCliError(again, 'HOME_IN_USE', /another node/);
  });

  it('tx registry admit --wait commits and prints the result; query account shows the admission', async () => {
    const out = expectCliOk(await cli(['tx', 'registry', 'admit', bob.address, '--role', 'prosumer', '--wait', ...g()]));
    expect(out).toMatchObject({ status: 'committed', hash: expect.stringMatching(/^[0-9a-f]{64}$/), height: expect.any(Number), result: { code: 'OK' } });
    admitHash = out.hash;
    admitHeight = out.height;
    const acct = expectCliOk(await cli(['query', 'account', bob.address, ...g()]));
    expect(acct).toMatchObject({ address: bob.address, admitted: true, revoked: false, roles: ['prosumer'], nonce: 0 });
    expect(acct.account.admittedAt).toEqual({ height: admitHeight, txHash: admitHash });
  });

  it('query block (latest and by height) and status', async () => {
    const latest = expectCliOk(await cli(['query', 'block', ...g()]));
    expect(latest.block.header.height).toBeGreaterThanOrEqual(admitHeight);
    const at = expectCliOk(await cli(['query', 'block', String(admitHeight), ...g()]));
    expect(at.block.header.height).toBe(admitHeight);
    expect(at.block.txs.map((t: { body: { msgs: Array<{ value: { address: string } }> } }) => t.body.msgs[0]!.value.address)).toContain(bob.address);
    expect(at.results).toContainEqual(expect.objectContaining({ code: 'OK' }));
    const s = await cliStatus();
    expect(s.height).toBeGreaterThanOrEqual(admitHeight);
  });

  describe('bad input through the CLI: stderr JSON, non-zero exit, empty stdout, node keeps serving, state unchanged', () => {
    async function unchanged(run: () => Promise<void>) {
      const before = await status();
      await run();
      const after = await status();
      expect(after.stateRoot).toBe(before.stateRoot);
    }

    it('usage errors (unknown command, missing option) → CLI_USAGE, exit 2', async () => {
      await unchanged(async () => {
        const [r, m] = await Promise.all([cli(['frobnicate', ...g()]), cli(['tx', 'registry', 'admit', bob.address, ...g()])]);
        expect(r.code).toBe(2);
        expectCliError(r, 'CLI_USAGE');
        expect(m.code).toBe(2);
        expectCliError(m, 'CLI_USAGE', /--role/);
      });
    });

    it('wrong argument types and a reused nonce are refused before or at the node', async () => {
      await unchanged(async () => {
        const runs = await Promise.all([
          cli(['tx', 'registry', 'admit', bob.address, '--role', 'king', ...g()]),
          cli(['query', 'account', 'not-an-address', ...g()]),
          cli(['query', 'block', 'abc', ...g()]),
          cli(['query', 'block', '999999', ...g()]),
          cli(['tx', 'registry', 'admit', 'grid1bogus', '--role', 'prosumer', ...g()]),
          cli(['tx', 'registry', 'admit', account('memo').address, '--role', 'prosumer', '--memo', 'm'.repeat(300), ...g()]),
          cli(['tx', 'registry', 'admit', account('exp').address, '--role', 'prosumer', '--expires-in', '0', ...g()]),
          cli(['tx', 'registry', 'admit', account('rn').address, '--role', 'prosumer', '--nonce', '0', ...g()]),
        ]);
        expectCliError(runs[0]!, 'CLI_INVALID_OPTION', /unknown role king/);
        expectCliError(runs[1]!, 'CLI_INVALID_ARGUMENT');
        expectCliError(runs[2]!, 'REQUEST_INVALID', /params\.height/);
        expectCliError(runs[3]!, 'BLOCK_NOT_FOUND');
        expectCliError(runs[4]!, 'MSG_INVALID', /registry\/admit\.address/);
        expectCliError(runs[5]!, 'TX_MALFORMED', /body\.memo/);
        expectCliError(runs[6]!, 'CLI_INVALID_OPTION', /--expires-in/);
        expectCliError(runs[7]!, 'TX_NONCE_USED', /already used/);
      });
    });

    it('unadmitted sender → TX_SENDER_NOT_ADMITTED', async () => {
      expectCliOk(await cli(['keys', 'add', 'stranger', ...g()]));
      await unchanged(async () => {
        expectCliError(await cli(['tx', 'registry', 'admit', account('ua').address, '--role', 'prosumer', '--from', 'stranger', ...g()]), 'TX_SENDER_NOT_ADMITTED');
      });
    });

    it('non-operator admit with --wait → committed as REGISTRY_NOT_OPERATOR; only the sender nonce moves', async () => {
      const [logBefore, accountsBefore, bobBefore] = (
        await Promise.all([cli(['query', 'registry', 'log', ...g()]), cli(['query', 'registry', 'accounts', ...g()]), cli(['query', 'account', bob.address, ...g()])])
      ).map(expectCliOk);
      const target = account('by-bob').address;
      const err = expectCliError(await cli(['tx', 'registry', 'admit', target, '--role', 'consumer', '--from', 'bob', '--wait', ...g()]), 'REGISTRY_NOT_OPERATOR', /only a consortium operator/);
      expect(err.message).toMatch(/\(tx [0-9a-f]{64} at height \d+\)/);
      const [bobAfter, logAfter, accountsAfter, targetAfter] = (
        await Promise.all([cli(['query', 'account', bob.address, ...g()]), cli(['query', 'registry', 'log', ...g()]), cli(['query', 'registry', 'accounts', ...g()]), cli(['query', 'account', target, ...g()])])
      ).map(expectCliOk);
      expect(bobAfter.nonce).toBe(bobBefore.nonce + 1);
      expect({ ...bobAfter, nonce: 0 }).toEqual({ ...bobBefore, nonce: 0 });
      expect(logAfter).toEqual(logBefore);
      expect(accountsAfter).toEqual(accountsBefore);
      expect(targetAfter.account).toBeNull();
    });

    it('revoked sender → TX_SENDER_REVOKED (after revoke --wait)', async () => {
      // admit carol, revoke her, then carol cannot transact
      const carol = expectCliOk(await cli(['keys', 'add', 'carol', ...g()]));
      expectCliOk(await cli(['tx', 'registry', 'admit', carol.address, '--role', 'trader', '--wait', ...g()]));
      const rev = expectCliOk(await cli(['tx', 'registry', 'revoke', carol.address, '--reason', 'left', '--wait', ...g()]));
      expect(rev.result.code).toBe('OK');
      await unchanged(async () => {
        expectCliError(await cli(['tx', 'registry', 'admit', account('rv').address, '--role', 'prosumer', '--from', 'carol', ...g()]), 'TX_SENDER_REVOKED', /was revoked/);
      });
      const log = expectCliOk(await cli(['query', 'registry', 'log', '--address', carol.address, ...g()]));
      expect(log.entries.map((e: { action: string }) => e.action)).toEqual(['revoke', 'admit']);
      expect(log.entries[0]).toMatchObject({ reason: 'left', txHash: rev.hash, height: rev.height });
    });

    it('admitting an admitted account --wait → REGISTRY_ALREADY_ADMITTED', async () => {
      expectCliError(await cli(['tx', 'registry', 'admit', bob.address, '--role', 'meter', '--wait', ...g()]), 'REGISTRY_ALREADY_ADMITTED');
      expect(expectCliOk(await cli(['query', 'account', bob.address, ...g()])).roles).toEqual(['prosumer']);
    });

    it('without -o json errors are one readable line on stderr, still with a non-zero exit', async () => {
      const r = await cli(['keys', 'show', 'nobody', '--home', home]);
      expect(r.code).not.toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^error KEY_NOT_FOUND: /);
    });

    it('the node kept serving throughout', async () => {
      expect((await fetch(`${node!.url}/v1/health`)).status).toBe(200);
    });
  });

  it('SIGTERM stops the node cleanly; a restart keeps height, state root and the admission', async () => {
    const before = await status();
    const blockBefore = expectCliOk(await cli(['query', 'block', String(before.height), ...g()]));
    const exit = await stopNodeProcess(node!, 'SIGTERM');
    expect(exit).toEqual({ code: 0, signal: null });
    expect(existsSync(join(home, 'data', 'node.pid'))).toBe(false);
    node = undefined;
    expectCliError(await cli(['status', ...g()]), 'NODE_UNREACHABLE');

    node = await startNodeProcess(home, port);
    const after = await cliStatus();
    expect(after.chainId).toBe('cli-chain');
    expect(after.height).toBeGreaterThanOrEqual(before.height);
    expect(after.stateRoot).toBe(before.stateRoot);
    const [blockAfter, acct, tx] = (
      await Promise.all([cli(['query', 'block', String(before.height), ...g()]), cli(['query', 'account', bob.address, ...g()]), cli(['query', 'tx', admitHash, ...g()])])
    ).map(expectCliOk);
    expect(blockAfter.hash).toBe(blockBefore.hash);
    expect(acct).toMatchObject({ admitted: true, roles: ['prosumer'] });
    expect(acct.account.admittedAt).toEqual({ height: admitHeight, txHash: admitHash });
    expect(tx).toMatchObject({ status: 'committed', height: admitHeight, result: { code: 'OK' } });
    // and it keeps working after the restart
    const next = expectCliOk(await cli(['tx', 'registry', 'admit', account('after-restart').address, '--role', 'meter', '--wait', ...g()]));
    expect(next.result.code).toBe('OK');
    expect(next.height).toBeGreaterThan(before.height);
  });
});
