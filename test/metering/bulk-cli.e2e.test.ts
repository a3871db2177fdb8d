import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotOfMs } from '../../src/util/slots.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/**
 * Issue 19 #14 and #17 through the CLI on a running node: bulk readings and official values from CSV
 * files through the batch endpoint with a per-row result file, the missing-readings report, the domain
 * metrics in /metrics, role changes and the inactivity list, a transfer with a description.
 */
describe('grid-operator bulk work and registry upkeep through the CLI', () => {
  let node: TestNode;
  let work: string;

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
    node = await startTestNode({ gridop: ['grid-operator'], m1: ['meter'], m2: ['meter'], alice: ['consumer'] });
    work = mkdtempSync(join(tmpdir(), 'gridledger-bulk-'));
  });
  afterAll(async () => {
    await node?.cleanup();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('sends readings and official values from CSV files, writes a result per row, reports missing readings and counts them in /metrics', async () => {
    for (const [meter, key] of [['M1', 'm1'], ['M2', 'm2']]) {
      const reg = await cli('gridop', ['--wait', 'tx', 'meter', 'register', '--meter', meter!, '--address', key!, '--max-power-w', '20000']);
      expect(reg.json?.result?.code, reg.stderr).toBe('OK');
    }
    const s = slotOfMs(Date.now()) - 6;
    const csv = join(work, 'readings.csv');
    writeFileSync(
      csv,
      [
        'meter,slot,import_wh,export_wh,seq',
        `M1,${s},100,0,1`,
        `M2,${s},50,5,1`,
        `M1,${s + 1},100,0,2`,
        `M2,${s + 1},50,5,2`,
        `M2,${s + 1},51,5,3`, // duplicate slot: committed with a rejection
        `M9,${s + 1},1,0,1`, // unknown meter: not sent
        `M1,${s + 2},100,0,3`,
        `M2,${s + 2},50,5,4`,
        `M1,${new Date((s + 3) * 900_000).toISOString()},100,0,4`,
      ].join('\n') + '\n',
    );
    const bulk = await cli('gridop', ['--wait', 'tx', 'meter', 'readings', '--csv', csv]);
    expect(bulk.code, bulk.stderr).toBe(1); // some rows failed: the summary on stdout, the error on stderr
    expect(JSON.parse(bulk.stderr).error.code).toBe('METER_BULK_INCOMPLETE');
    expect(bulk.json).toMatchObject({ rows: 9, admitted: 8, refused: 1, committedOk: 7, rejected: 1, results: `${csv}.results.csv` });
    const rows = readFileSync(`${csv}.results.csv`, 'utf8').trim().split('\n');
    expect(rows[0]).toBe('line,meter,slot,hash,admission,result,message');
    const byLine = new Map(rows.slice(1).map((l) => [Number(l.split(',')[0]), l.split(',')]));
    expect(byLine.get(2)!.slice(1, 3)).toEqual(['M1', String(s)]);
    expect(byLine.get(2)![3]).toMatch(/^[0-9a-f]{64}$/);
    expect(byLine.get(2)!.slice(4, 6)).toEqual(['OK', 'OK']);
    expect(byLine.get(6)!.slice(4, 6)).toEqual(['OK', 'METER_READING_DUPLICATE']);
    expect(byLine.get(7)!.slice(3, 6)).toEqual(['', 'METER_NOT_FOUND', '']);
    expect(byLine.get(10)!.slice(2, 6)).toEqual([String(s + 3), byLine.get(10)![3], 'OK', 'OK']);
    // Registers defaulted to the running sums, as a gateway sends them.
    const readings = (await cli('m1', ['query', 'meter', 'readings', 'M1'])).json.readings;
    expect(readings.map((r: { importRegisterWh: number }) => r.importRegisterWh)).toEqual([100, 200, 300, 400]);

    const official = join(work, 'official.csv');
    writeFileSync(official, `meter,slot,import_wh,export_wh\nM1,${s},110,0\nM2,${s},50,5\n`);
    const off = await cli('gridop', ['--wait', 'tx', 'meter', 'official', '--csv', official, '--results', join(work, 'official-results.csv')]);
    expect(off.code, off.stderr).toBe(0);
    expect(off.json).toMatchObject({ rows: 2, admitted: 2, committedOk: 2, rejected: 0 });
    expect(readFileSync(join(work, 'official-results.csv'), 'utf8').trim().split('\n')).toHaveLength(3);
    const diff = (await cli('gridop', ['query', 'meter', 'differences', 'M1'])).json;
    expect(diff.totals.importDiffWh).toBe(10);

    const missing = await cli('gridop', ['query', 'meter', 'missing', '--slot', String(s + 3)]);
    expect(missing.json.meters.map((x: { meterId: string }) => x.meterId)).toEqual(['M2']);
    const refused = await cli('alice', ['query', 'meter', 'missing', '--slot', String(s + 3)]);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toBe('READ_FORBIDDEN');

    const metrics = await (await fetch(`${node.url}/metrics`)).text();
    expect(metrics).toMatch(/^gridledger_meter_readings_accepted_total 7$/m);
    expect(metrics).toMatch(/^gridledger_meter_readings_rejected_total\{code="METER_READING_DUPLICATE"\} 1$/m);
    expect(metrics).toMatch(new RegExp(`^gridledger_meter_readings_per_slot\\{slot="${s}"\\} 2$`, 'm'));
    expect(metrics).toMatch(/^gridledger_meter_official_total\{code="OK"\} 2$/m);
  });

  it('refuses a malformed CSV before signing anything', async () => {
    const bad = join(work, 'bad.csv');
    writeFileSync(bad, 'meter,slot,import_wh\nM1,1,2\n');
    const res = await cli('gridop', ['tx', 'meter', 'readings', '--csv', bad]);
    expect(res.code).toBe(2); // a usage error
    expect(JSON.parse(res.stderr).error.code).toBe('CLI_INVALID_OPTION');
    expect(existsSync(`${bad}.results.csv`)).toBe(false);
    writeFileSync(bad, 'meter,slot,import_wh,export_wh\nM1,1,-2,0\n');
    const negative = await cli('gridop', ['tx', 'meter', 'official', '--csv', bad]);
    expect(negative.code).toBe(2);
    expect(JSON.parse(negative.stderr).error.message).toMatch(/line 2 import_wh/);
  });

  it('changes roles, lists the log with reasons and inactive accounts, and transfers nothing without a community', async () => {
    const set = await cli('admin', ['--wait', 'tx', 'registry', 'set-roles', 'alice', '--role', 'consumer,trader', '--reason', 'joined the market']);
    expect(set.json?.result?.code, set.stderr).toBe('OK');
    const log = (await cli('admin', ['query', 'registry', 'log', '--address', 'alice'])).json.entries;
    expect(log[0]).toMatchObject({ action: 'set-roles', roles: ['consumer', 'trader'], previousRoles: ['consumer'], reason: 'joined the market' });
    expect(log[log.length - 1]).toMatchObject({ action: 'admit', by: 'genesis', height: 0 });
    const inactive = await cli('admin', ['query', 'registry', 'inactive', '--days', '1']);
    expect(inactive.code, inactive.stderr).toBe(0);
    expect(inactive.json.accounts).toEqual([]); // everyone was admitted today
    const forbidden = await cli('alice', ['query', 'registry', 'inactive', '--days', '1']);
    expect(JSON.parse(forbidden.stderr).error.code).toBe('READ_FORBIDDEN');
  });
});
