import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_MS } from '../../src/util/slots.js';
import type { TestNode } from '../helpers/node.js';
import { agentConfig, communityNode, dbPath, readings, recentFirstSlot, startAgent, writeReplay } from './agent-helpers.js';
import { tempDir } from './helpers.js';

/**
 * Tampering with the agent's store after its readings are on the ledger: `gridledger verify samples`
 * names exactly the altered, inserted and deleted slots with the sample that differs; every other
 * slot is intact.
 */

const REPO = join(import.meta.dirname, '..', '..');
const SLOTS = 8;

let node: TestNode;
const tmp = tempDir('edge-agent-verify');
beforeAll(async () => {
  node = await communityNode();
});
afterAll(async () => {
  await node.cleanup();
  tmp.cleanup();
});

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', ...args], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('verify samples', () => {
  it('names exactly the tampered slots and samples; all others are intact', async () => {
    const firstSlot = recentFirstSlot(SLOTS);
    const file = join(tmp.dir, 'replay.p1');
    writeReplay(file, firstSlot, SLOTS, { seed: 9 });
    const db = dbPath(tmp.dir);
    const agent = await startAgent(node, agentConfig(node, { db, meters: [{ id: 'Q1', key: 'qmeter' }], sources: [{ kind: 'file', meter: 'Q1', path: file }], exitWhenDone: true }), { Q1: 'qmeter' });
    expect(await agent.done).toMatchObject({ delivered: SLOTS, parked: 0 });
    await agent.stop();
    expect(await readings(node, 'Q1')).toHaveLength(SLOTS);

    // The range as ISO times, end exclusive; --from is the first slot here. Fingerprints are private
    // reads: the meter's own key reads them (--as); without a key the node refuses (checked below).
    const range = ['--from', new Date(firstSlot * SLOT_MS).toISOString(), '--to', String(firstSlot + SLOTS)];
    const clean = await cli(['verify', 'samples', '--meter', 'Q1', '--db', db, '--as', 'qmeter', ...range]);
    expect(clean.code, clean.stderr).toBe(0);
    const cleanReport = JSON.parse(clean.stdout);
    const anonymous = await cli(['verify', 'samples', '--meter', 'Q1', '--db', db, ...range]);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr + anonymous.stdout).toContain('AUTH_REQUIRED');
    expect(cleanReport).toMatchObject({ ok: true, fromSlot: firstSlot, toSlot: firstSlot + SLOTS, summary: { intact: SLOTS } });

    // Tamper with three slots, the way someone holding the file could (the append-only triggers are a guard against bugs, not people).
    const sqlite = new Database(db);
    sqlite.exec('DROP TRIGGER edge_samples_no_update; DROP TRIGGER edge_samples_no_delete;');
    const seqs = (slot: number) => sqlite.prepare<[number], { seq: number; ts_ms: number }>("SELECT seq, ts_ms FROM edge_samples WHERE meter = 'Q1' AND slot = ? ORDER BY seq").all(slot);
    const altered = seqs(firstSlot + 1)[40]!;
    sqlite.prepare("UPDATE edge_samples SET import_t2_wh = import_t2_wh + 1 WHERE meter = 'Q1' AND seq = ?").run(altered.seq);
    const deleted = seqs(firstSlot + 4)[17]!;
    sqlite.prepare("DELETE FROM edge_samples WHERE meter = 'Q1' AND seq = ?").run(deleted.seq);
    const neighbour = seqs(firstSlot + 6)[60]!;
    const insertedSeq = 1_000_000;
    sqlite
      .prepare(
        "INSERT INTO edge_samples (meter, seq, ts_ms, slot, epoch, import_t1_wh, import_t2_wh, export_t1_wh, export_t2_wh, import_w, export_w, tariff, raw_hash, link) SELECT meter, ?, ts_ms + 5000, slot, epoch, import_t1_wh, import_t2_wh, export_t1_wh, export_t2_wh, import_w, export_w, tariff, raw_hash, link FROM edge_samples WHERE meter = 'Q1' AND seq = ?",
      )
      .run(insertedSeq, neighbour.seq);
    sqlite.close();

    const tampered = await cli(['verify', 'samples', '--meter', 'Q1', '--db', db, '--as', 'qmeter', ...range]);
    expect(tampered.code).toBe(1);
    expect(JSON.parse(tampered.stderr).error.code).toBe('EDGE_SAMPLES_NOT_VERIFIED');
    const report = JSON.parse(tampered.stdout);
    expect(report.ok).toBe(false);
    const broken = report.slots.filter((s: { status: string }) => s.status !== 'intact').map((s: { slot: number; status: string; firstDifferingSeq?: number }) => [s.slot - firstSlot, s.status, s.firstDifferingSeq]);
    expect(broken).toEqual([
      [1, 'altered', altered.seq],
      [4, 'deleted', deleted.seq],
      [6, 'inserted', insertedSeq],
    ]);
    expect(report.summary).toEqual({ intact: SLOTS - 3, altered: 1, inserted: 1, deleted: 1, reordered: 0, 'missing-on-chain': 0 });
  });
});
