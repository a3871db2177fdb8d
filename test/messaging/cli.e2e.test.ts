import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { composeSealed, generateMessagingKey, messagingRoutes, mintStamp, toWire } from '../../src/messaging/index.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { LedgerError } from '../../src/util/errors.js';
import { makeHome } from '../helpers/node.js';

const run = promisify(execFile);

/**
 * `gridledger msg keys|send|inbox|stats|watch` against a running node, one process per command; the
 * API refuses what a peer would be penalised for.
 */
describe('messaging through the CLI and the API', () => {
  let home: string;
  let node: RunningNode;
  let admin: string;

  beforeAll(async () => {
    const made = makeHome();
    home = made.home;
    admin = made.init.accounts.admin!;
    node = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }) });
  });
  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<any> {
    const { stdout } = await run('node', ['bin/gridledger.mjs', '--home', home, '--node', node.url, '-o', 'json', ...args], { cwd: process.cwd() });
    return JSON.parse(stdout);
  }

  it('creates keys, sends sealed and broadcast messages, and reads only its own', async () => {
    const bob = await cli('msg', 'keys', 'add', 'bob');
    const reply = await cli('msg', 'keys', 'add', 'trade-1');
    expect(bob.address).toMatch(/^gridmsg1/);
    expect((await cli('msg', 'keys', 'list')).keys.map((k: any) => k.name)).toEqual(['bob', 'trade-1']);

    const sent = await cli('--from', 'admin', 'msg', 'send', '--to', bob.address, '--text', '2 kWh at 20 ct?', '--sign', '--reply-to', 'trade-1', '--ttl', '600');
    expect(sent.added).toBe(true);
    expect(sent.trials).toBeGreaterThan(0);
    const anonymous = await cli('msg', 'send', '--to', 'bob', '--text', 'who am I', '--ttl', '600');
    await cli('--from', 'admin', 'msg', 'send', '--broadcast', '--text', 'surplus at noon', '--ttl', '600');

    const inbox = await cli('msg', 'inbox', '--keys', 'bob');
    expect(inbox.messages.map((m: any) => [m.kind, m.key, m.from, m.text, m.replyTo])).toEqual([
      ['sealed', 'bob', admin, '2 kWh at 20 ct?', reply.address],
      ['sealed', 'bob', undefined, 'who am I', undefined],
      ['broadcast', undefined, admin, 'surplus at noon', undefined],
    ]);
    expect(inbox.messages[1].hash).toBe(anonymous.hash);
    // The reply key opens none of them: it sees only the broadcast.
    expect((await cli('msg', 'inbox', '--keys', 'trade-1')).messages.map((m: any) => m.kind)).toEqual(['broadcast']);
    // From a cursor on, only what came later.
    expect((await cli('msg', 'inbox', '--after', String(inbox.messages[1].cursor))).messages.map((m: any) => m.text)).toEqual(['surplus at noon']);

    // The node's figures: three messages held and accepted, none refused, no relay on a lone node.
    expect(await cli('msg', 'stats')).toMatchObject({ stored: 3, accepted: 3, duplicates: 0, rejected: {}, relay: { enabled: false } });

    const { stdout } = await run('node', ['bin/gridledger.mjs', '--home', home, '--node', node.url, '-o', 'json', 'msg', 'watch', '--keys', 'bob', '--count', '2', '--interval-ms', '200']);
    expect(stdout.trim().split('\n').map((l) => JSON.parse(l).text)).toEqual(['2 kWh at 20 ct?', 'who am I']);
  }, 120_000);

  it('keeps messaging keys encrypted at rest in a file keyring, like account keys', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gridledger-msgkeys-'));
    try {
      const withPassphrase = (passphrase: string, ...args: string[]) =>
        run('node', ['bin/gridledger.mjs', '--home', dir, '-o', 'json', ...args], { env: { ...process.env, GRIDLEDGER_PASSPHRASE: passphrase } });
      const added = JSON.parse((await withPassphrase('correct horse', 'msg', 'keys', 'add', 'carol')).stdout);
      const file = JSON.parse(readFileSync(join(dir, 'keyring', 'msg-carol.secret.json'), 'utf8'));
      expect(file.backend).toBe('file');
      expect(file.encrypted.ciphertext).toMatch(/^[0-9a-f]+$/);
      expect(file.insecureSecret).toBeUndefined();
      const wrong = await withPassphrase('wrong', 'msg', 'keys', 'list').then(
        () => undefined,
        (e: { stderr: string }) => JSON.parse(e.stderr).error.code,
      );
      expect(wrong).toBe('KEYRING_BAD_PASSPHRASE');
      expect(JSON.parse((await withPassphrase('correct horse', 'msg', 'keys', 'list')).stdout).keys).toEqual([{ name: 'carol', address: added.address }]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('refuses a bad stamp, an expired message and one from beyond the skew', async () => {
    const params = await callRoute(node.url, messagingRoutes.messagingParams, {});
    const key = generateMessagingKey().publicKey;
    const code = (body: unknown) =>
      callRoute(node.url, messagingRoutes.postMessage, { body }).then(
        () => 'OK',
        (e: LedgerError) => e.code,
      );
    const fresh = composeSealed(key, { content: { text: 'x' }, ttl: 600, now: params.now });
    expect(await code(toWire({ ...fresh, stamp: mintStamp({ ...fresh, ttl: 60, expiresAt: params.now + 60 }, { referenceTrials: 1 }).stamp }))).toBe('MSG_BAD_STAMP');
    const expired = composeSealed(key, { content: { text: 'x' }, ttl: 600, now: params.now - 700 });
    expect(await code(toWire({ ...expired, stamp: new Uint8Array(8) }))).toBe('MSG_EXPIRED');
    const future = composeSealed(key, { content: { text: 'x' }, ttl: 600, now: params.now + params.maxSkewSeconds + 60 });
    expect(await code(toWire({ ...future, stamp: new Uint8Array(8) }))).toBe('MSG_FROM_FUTURE');
    expect(await code({ v: 1 })).toBe('MSG_MALFORMED');
  });
});
