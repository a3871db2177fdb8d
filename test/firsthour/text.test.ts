/**
 * Issue 19 point 10: text output for people — local times with the zone (JSON unchanged), key
 * names next to addresses, slots as local times, `status` with peers, consensus and sync, the id
 * `tx community create` was assigned, and exit code 2 for usage errors.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliCommand, displayPath, pageText } from '../../src/cli/kit.js';
import { humanizeText, localTime, renderValue, slotText } from '../../src/cli/human.js';
import { cli, initNodeHome, startNodeProcess, stopNodeProcess, type NodeProcess } from '../foundation/cli-helpers.js';
import { BIN, freePort, oneJson, REPO } from './helpers.js';

const JUNE_1_NOON_UTC = Date.UTC(2026, 5, 1, 12, 0, 0);
const SLOT = JUNE_1_NOON_UTC / 900_000; // the slot starting then

describe('formatting (unit)', () => {
  it('instants in a given zone with offset and abbreviation; UTC as UTC; seconds only when not zero', () => {
    expect(localTime(JUNE_1_NOON_UTC, 'Europe/Amsterdam')).toBe('2026-06-01 14:00 +02:00 CEST');
    expect(localTime(JUNE_1_NOON_UTC + 5_000, 'Europe/Amsterdam')).toBe('2026-06-01 14:00:05 +02:00 CEST');
    expect(localTime(Date.UTC(2026, 0, 15, 12), 'Europe/Amsterdam')).toBe('2026-01-15 13:00 +01:00 CET');
    expect(localTime(JUNE_1_NOON_UTC, 'UTC')).toBe('2026-06-01 12:00 UTC');
    expect(localTime(JUNE_1_NOON_UTC, 'Asia/Kolkata')).toMatch(/^2026-06-01 17:30 \+05:30( IST)?$/);
    expect(slotText(SLOT, 'Europe/Vienna')).toBe(`${SLOT} (2026-06-01 14:00 +02:00 CEST)`);
  });

  it('free text: ISO UTC instants become local, "slot N" gets its local start, addresses get key names (once)', () => {
    const alice = 'grid1nuwckzzjtleztl6gpy9494jst5usxqhhuysp4s';
    const stranger = 'grid1lrjsr5yvkhwan4ele6hw0trxftyux2w7f385yq';
    const ctx = { names: new Map([[alice, 'alice']]), timeZone: 'Europe/Amsterdam' };
    expect(humanizeText(`${SLOT} 2026-06-01T12:00:00.000Z  ${alice}  ${stranger}`, ctx)).toBe(`${SLOT} 2026-06-01 14:00 +02:00 CEST  ${alice} (alice)  ${stranger}`);
    expect(humanizeText(`h12  slot ${SLOT}  transfer`, ctx)).toBe(`h12  slot ${SLOT} (2026-06-01 14:00 +02:00 CEST)  transfer`);
    expect(humanizeText(`${alice} (alice)`, ctx)).toBe(`${alice} (alice)`);
    // offsets other than Z are left as written (the user chose them)
    expect(humanizeText('2026-06-01T14:00:00+02:00', ctx)).toBe('2026-06-01T14:00:00+02:00');
  });

  it('values without a layout of their own: indented keys, instants and slots by key name, names by address', () => {
    const alice = 'grid1nuwckzzjtleztl6gpy9494jst5usxqhhuysp4s';
    const ctx = { names: new Map([[alice, 'alice']]), timeZone: 'Europe/Amsterdam' };
    const text = renderValue({ hash: 'ab', time: JUNE_1_NOON_UTC, fromSlot: SLOT, nonce: 3, roles: ['trader', 'prosumer'], account: { address: alice, createdAt: JUNE_1_NOON_UTC }, results: [{ code: 'OK' }] }, ctx);
    expect(text.split('\n')).toEqual([
      'hash      ab',
      'time      2026-06-01 14:00 +02:00 CEST',
      `fromSlot  ${SLOT} (2026-06-01 14:00 +02:00 CEST)`,
      'nonce     3',
      'roles     trader, prosumer',
      'account',
      `  address    ${alice} (alice)`,
      '  createdAt  2026-06-01 14:00 +02:00 CEST',
      'results',
      '  -',
      '    code  OK',
    ]);
  });

  it('a page of a list: its lines, the empty mark when there are none, and how to ask for the rest', () => {
    expect(pageText(['a', 'b'], {})).toBe('a\nb');
    expect(pageText([], {})).toBe('(none)');
    expect(pageText([], {}, '(no history)')).toBe('(no history)');
    expect(pageText(['a'], { next: 'c7' })).toBe('a\nmore: --after c7');
    expect(pageText([], { next: '0000000000000042' })).toBe('(none)\nmore: --after 0000000000000042'); // a short page of a capped read
    expect(pageText(['slot 5'], { nextSlot: 6 })).toBe('slot 5\nmore: --from-slot 6');
  });

  it('messages suggest `npx gridledger` inside the project and `node …/bin/gridledger.mjs` elsewhere; paths as typed from here', () => {
    expect(cliCommand(REPO)).toBe('npx gridledger');
    expect(cliCommand(join(REPO, 'docs'))).toBe('npx gridledger');
    expect(cliCommand(tmpdir())).toBe(`node ${BIN}`);
    expect(displayPath(join(REPO, '.gridledger-devnet', 'node0'), REPO)).toBe('.gridledger-devnet/node0');
    expect(displayPath('/elsewhere/node0', REPO)).toBe('/elsewhere/node0');
    expect(displayPath('/with space/x', '/')).toBe("'with space/x'");
  });
});

describe('the CLI on a running node, as people read it', () => {
  let dir = '';
  let home = '';
  let node: NodeProcess | undefined;
  const TZ = { TZ: 'Asia/Kolkata' }; // a fixed zone for the assertions (no DST)

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-firsthour-text-'));
    home = join(dir, 'home');
    const port = await freePort();
    await initNodeHome(home, 'text-chain', port, (config) => {
      config.consensus.blockTimeMs = 100;
      config.logLevel = 'warn';
    });
    node = await startNodeProcess(home, port);
  });
  afterAll(async () => {
    if (node) await stopNodeProcess(node);
    rmSync(dir, { recursive: true, force: true });
  });

  it('status: local block time with the zone, the validator by name, consensus round/step, sync and peers; JSON keeps epoch milliseconds', async () => {
    const admitted = await cli(['tx', 'registry', 'admit', oneJson(await cli(['keys', 'add', 'alice', '--home', home, '-o', 'json'])).address, '--role', 'trader', '--wait', '--home', home]);
    expect(admitted.code, admitted.stderr).toBe(0);
    const text = await cli(['status', '--home', home], TZ);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^block time {4}\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)? \+05:30( IST)?$/m);
    expect(text.stdout).toMatch(/^validator {5}grid1\w+ \(validator\)$/m);
    expect(text.stdout).toMatch(/^consensus {5}height \d+ round \d+ step \w+/m);
    expect(text.stdout).toMatch(/^sync {10}\S/m);
    expect(text.stdout).toMatch(/^peers {9}0$/m);
    expect(text.stdout).toMatch(/^mempool {7}\d+ txs, \d+ bytes$/m);
    const json = oneJson(await cli(['status', '--home', home, '-o', 'json'], TZ));
    expect(typeof json.latestBlockTime).toBe('number');
  });

  it('--wait prints the committed events, so `tx community create` shows the id the ledger assigned', async () => {
    const r = await cli(['tx', 'community', 'create', '--name', 'Neighbourhood', '--timezone', 'Europe/Amsterdam', '--wait', '--home', home], TZ);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^committed [0-9a-f]{64} at height \d+: OK$/m);
    expect(r.stdout).toMatch(/^ {2}energy\.community_created {2}id=c1 {2}owner=grid1\w+ \(admin\) {2}timezone=Europe\/Amsterdam$/m);
  });

  it('addresses in query output carry their key names', async () => {
    const alice = oneJson(await cli(['keys', 'show', 'alice', '--home', home, '-o', 'json'])).address as string;
    const r = await cli(['query', 'account', alice, '--home', home], TZ);
    expect(r.stdout).toMatch(new RegExp(`^address +${alice} \\(alice\\)$`, 'm'));
    const log = await cli(['query', 'registry', 'log', '--home', home], TZ);
    expect(log.stdout).toContain(`${alice} (alice)`);
    expect(log.stdout).toMatch(/by grid1\w+ \(admin\)/);
  });

  it('usage errors exit 2 (bad option values, bad arguments, bad key names, bad slots); failures at the node exit 1', async () => {
    const g = ['--home', home, '-o', 'json'];
    const [role, arg, name, slot, missing, notFound] = await Promise.all([
      cli(['tx', 'registry', 'admit', 'grid1nuwckzzjtleztl6gpy9494jst5usxqhhuysp4s', '--role', 'king', ...g]),
      cli(['query', 'account', 'not-an-address', ...g]),
      cli(['keys', 'add', '../evil', ...g]),
      cli(['query', 'energy', 'balances', '--community', 'c1', '--slot', 'yesterday', ...g]),
      cli(['tx', 'registry', 'admit', ...g]),
      cli(['query', 'block', '999999', ...g]),
    ]);
    expect([role, arg, name, slot, missing].map((r) => [r.code, JSON.parse(r.stderr).error.code])).toEqual([
      [2, 'CLI_INVALID_OPTION'],
      [2, 'CLI_INVALID_ARGUMENT'],
      [2, 'KEY_NAME_INVALID'],
      [2, 'SLOT_INVALID'],
      [2, 'CLI_USAGE'],
    ]);
    expect([notFound.code, JSON.parse(notFound.stderr).error.code]).toEqual([1, 'BLOCK_NOT_FOUND']);
  });
});
