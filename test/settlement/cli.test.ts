import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openKeyring } from '../../src/home/home.js';
import { statementHash } from '../../src/modules/settlement/statement.js';
import { dayOfSlot, localDay } from '../../src/util/localtime.js';
import { slotOfMs } from '../../src/util/slots.js';
import { realTimers } from '../../src/runtime/driver.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

describe('shares and billing through the CLI on a running node (the paper example)', () => {
  let node: TestNode;
  let work: string;
  const addr: Record<string, string> = {};
  // The node's clock: moved three days ahead once the plant exists, so a whole local day after its registration has ended.
  const clock = { offset: 0 };

  async function cli(from: string, args: string[]): Promise<{ code: number; json: any; stderr: string }> {
    try {
      const { stdout, stderr } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', '--from', from, ...args], { cwd: process.cwd() });
      return { code: 0, json: stdout.trim() ? JSON.parse(stdout) : undefined, stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, json: err.stdout.trim() ? JSON.parse(err.stdout) : undefined, stderr: err.stderr };
    }
  }

  beforeAll(async () => {
    node = await startTestNode({ alice: ['prosumer'], bob: ['consumer'], carol: ['prosumer'], utility: ['utility'] }, { timers: { ...realTimers, now: () => Date.now() + clock.offset } });
    const keyring = openKeyring(node.home, 'test');
    for (const n of ['alice', 'bob', 'carol', 'utility']) addr[n] = keyring.show(n).address;
    work = mkdtempSync(join(tmpdir(), 'gridledger-bill-'));
  });
  afterAll(async () => {
    await node?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('registers, transfers, rejects, queries, bills, records and verifies', async () => {
    const u = addr.utility!;
    const reg = await cli('utility', [
      '--wait', 'tx', 'plant', 'register', '--plant', 'house-1', '--name', 'Building 1', '--timezone', 'Europe/Vienna', '--production-meter', 'pv-1',
      '--participant', `${addr.alice}:${u}:200000:m-alice`, '--participant', `${addr.bob}:${u}:200000:m-bob`, '--participant', `${addr.carol}:${u}:600000:m-carol`,
    ]);
    expect(reg.stderr).toBe('');
    expect(reg.json.result.code).toBe('OK');

    const start = slotOfMs(Date.now()) + 8; // two hours ahead: future slots
    const t1 = await cli('alice', ['--wait', 'tx', 'plant', 'transfer', '--plant', 'house-1', '--to', 'bob', '--ppm', '200000', '--from-slot', String(start), '--to-slot', String(start + 16)]);
    expect(t1.json.result.code).toBe('OK');
    const iso = new Date((start + 5) * 900_000).toISOString();
    const t2 = await cli('bob', ['--wait', 'tx', 'plant', 'transfer', '--plant', 'house-1', '--to', addr.carol!, '--ppm', '400000', '--from-slot', iso, '--to-slot', String(start + 6)]);
    expect(t2.json.result.code).toBe('OK');
    const bad = await cli('alice', ['--wait', 'tx', 'plant', 'transfer', '--plant', 'house-1', '--to', 'carol', '--ppm', '1', '--from-slot', String(start + 10), '--to-slot', String(start + 11)]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stderr).error.code).toBe('SHARES_INSUFFICIENT_PORTION');

    const q = async (who: string) => (await cli('utility', ['query', 'plant', 'participant', '--plant', 'house-1', '--address', who, '--from-slot', String(start - 4), '--to-slot', String(start + 20)])).json.slots.map((s: { ppm: number }) => s.ppm);
    const [a, b, c] = [await q('alice'), await q(addr.bob!), await q('carol')];
    for (let i = 0; i < 24; i++) {
      const slot = start - 4 + i;
      const inRange = slot >= start && slot < start + 16;
      expect(a[i]).toBe(inRange ? 0 : 200_000);
      expect(b[i]).toBe(slot === start + 5 ? 0 : inRange ? 400_000 : 200_000);
      expect(c[i]).toBe(slot === start + 5 ? 1_000_000 : 600_000);
      expect(a[i] + b[i] + c[i]).toBe(1_000_000);
    }
    const day = dayOfSlot('Europe/Vienna', start);
    const table = (await cli('utility', ['query', 'plant', 'holdings', '--plant', 'house-1', '--day', day])).json;
    expect(table.slots).toBe(localDay('Europe/Vienna', day).slots);
    // Before the registration slot nobody holds anything (issue 19 #12); from it on the holdings sum to 1,000,000.
    const firstHeld = table.rows.findIndex((row: { total: number }) => row.total !== 0);
    // `start` is two hours ahead, so from 22:00 Vienna time its day is tomorrow, which begins after the registration.
    const registeredBy = slotOfMs(Date.now());
    if (localDay('Europe/Vienna', day).firstSlot > registeredBy) expect(firstHeld).toBe(0);
    else expect(table.rows[firstHeld].slot).toBeLessThanOrEqual(registeredBy);
    for (const [i, row] of table.rows.entries()) expect(row.total).toBe(i < firstHeld ? 0 : 1_000_000);
    const history = (await cli('utility', ['query', 'plant', 'transfers', '--plant', 'house-1'])).json.entries;
    expect(history.map((e: { kind: string }) => e.kind)).toEqual(['transfer', 'transfer', 'register']);

    // Billing a day before the plant existed is refused (issue 19 #12: its key applies from the registration slot on).
    const yesterday = dayOfSlot('Europe/Vienna', slotOfMs(Date.now()) - 96 - 8);
    const yFirst = localDay('Europe/Vienna', yesterday).firstSlot;
    writeFileSync(join(work, 'prod.csv'), `plant,slot,wh\nhouse-1,${yFirst + 48},1001\n`);
    writeFileSync(join(work, 'cons.csv'), `meter,slot,wh\nm-alice,${yFirst + 48},100\n`);
    const early = await cli('utility', ['bill', '--from-day', yesterday, '--out', join(work, 'early'), '--production-csv', join(work, 'prod.csv'), '--consumption-csv', join(work, 'cons.csv'), '--import-tariff', '250000', '--feed-in-tariff', '80000']);
    expect(early.code).toBe(1);
    expect(JSON.parse(early.stderr).error.code).toBe('SETTLEMENT_BEFORE_REGISTRATION');

    // Billing dry run from CSV for the day after the registration, once the node's clock has passed it; then record and verify.
    const billedDay = dayOfSlot('Europe/Vienna', slotOfMs(Date.now()) + 96);
    clock.offset = 3 * 86_400_000;
    const first = localDay('Europe/Vienna', billedDay).firstSlot;
    writeFileSync(join(work, 'prod.csv'), `plant,slot,wh\nhouse-1,${first + 48},1001\nhouse-1,${first + 49},3\n`);
    writeFileSync(join(work, 'cons.csv'), `meter,slot,wh\nm-alice,${first + 48},100\nm-bob,${first + 48},300\n${addr.carol},${first + 49},1\n`);
    const out = join(work, 'out');
    const billed = await cli('utility', ['bill', '--from-day', billedDay, '--out', out, '--production-csv', join(work, 'prod.csv'), '--consumption-csv', join(work, 'cons.csv'), '--import-tariff', '250000', '--feed-in-tariff', '80000']);
    expect(billed.code).toBe(0);
    expect(billed.json.statements).toHaveLength(3);
    const carolFile = billed.json.statements.find((s: { customer: string }) => s.customer === addr.carol).json;
    const carol = JSON.parse(readFileSync(carolFile, 'utf8'));
    expect(carol.energyWh).toEqual({ consumed: 1, allocated: 603, covered: 1, imported: 0, fedIn: 602 });
    expect(carol.amountMicroEur).toEqual({ importCharge: 0, feedInCredit: 48_160, total: -48_160 });
    expect(readFileSync(carolFile.replace(/\.json$/, '.csv'), 'utf8')).toContain('amount_eur,-0.048160');

    // Tariffs typed on the command line: a dry run, marked as such, which is never recorded (issue 19 #13).
    expect(billed.json.dryRun).toBe(true);
    expect(carol.dryRun).toBe(true);
    expect(readFileSync(carolFile.replace(/\.json$/, '.csv'), 'utf8')).toContain('dry_run,yes');
    const nonceBefore = (await cli('utility', ['query', 'account', 'utility'])).json.nonce;
    const refused = await cli('utility', ['tx', 'settlement', 'record', join(out, u)]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toBe('STATEMENT_DRY_RUN');
    expect((await cli('utility', ['query', 'account', 'utility'])).json.nonce).toBe(nonceBefore);
    const unknown = await cli('utility', ['query', 'settlement', 'statement', '--hash', carol.hash]);
    expect(JSON.parse(unknown.stderr).error.code).toBe('SETTLEMENT_UNKNOWN_STATEMENT');
    const dry = await cli('carol', ['verify', 'statement', carolFile]);
    expect(dry.code).toBe(1);
    expect(dry.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok])).toEqual([['hash-field', true], ['recorded', false], ['dry-run', false], ['recomputed', null]]);

    // The same figures billed with ledger tariffs of these values carry no mark (a fresh chain cannot
    // have a tariff in force yesterday: tariffs start in future slots), and are recorded and verified.
    const { dryRun: _mark, hash: _hash, ...unmarked } = carol;
    const real = { ...unmarked, hash: statementHash(unmarked) };
    const realDir = join(work, 'ledger-tariffs');
    mkdirSync(realDir);
    const realFile = join(realDir, 'carol.json');
    writeFileSync(realFile, JSON.stringify(real, null, 2));
    const recorded = await cli('utility', ['tx', 'settlement', 'record', realDir]);
    expect(recorded.code).toBe(0);
    expect(recorded.json.recorded).toBe(1);
    expect((await cli('utility', ['query', 'account', 'utility'])).json.nonce).toBe(nonceBefore + 1);

    const ok = await cli('carol', ['verify', 'statement', realFile]);
    expect(ok.code).toBe(0);
    expect(ok.json.ok).toBe(true);
    expect(ok.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok])).toEqual([['hash-field', true], ['recorded', true], ['recomputed', null]]);

    const tampered = join(work, 'tampered.json');
    writeFileSync(tampered, JSON.stringify({ ...real, amountMicroEur: { importCharge: 0, feedInCredit: 148_160, total: -148_160 } }, null, 2));
    const no = await cli('carol', ['verify', 'statement', tampered]);
    expect(no.code).toBe(1);
    expect(no.json.ok).toBe(false);
    expect(JSON.parse(no.stderr).error.code).toBe('STATEMENT_NOT_VERIFIED');
    expect(no.json.checks.filter((c: { ok: boolean | null }) => c.ok === false).map((c: { name: string }) => c.name)).toEqual(['hash-field', 'recorded']);
  });
});
