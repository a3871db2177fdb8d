import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { EdgeAgent } from '../../src/edge/agent/agent.js';
import { parseAgentConfig } from '../../src/edge/agent/config.js';
import { SampleStore } from '../../src/edge/store.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { flexRoutes } from '../../src/modules/flex/routes.js';
import { prepareDevnet, startDevnetNode, type DevnetManifest } from '../../src/runtime/devnet.js';
import { closeProver } from '../../src/zk/prove.js';
import { BIN, freeBasePort, Processes, waitFor } from '../devnet/harness.js';

const run = promisify(execFile);
const HOUR = 3_600_000;
const MINUTE = 60_000;
const ASSET = 'NOK@flex';
const NOK = 1_000_000n;

/**
 * Issue 14's acceptance on a 4-validator devnet on loopback: a day of 24 hourly intervals that ended
 * in the last 25 hours (the chain's enrolment grace lets the event start in the past, so the test
 * needs no day of waiting). The meter's edge store holds a sample a minute; `gridledger flex commit`
 * puts intervals 0 and 1's commitments on the ledger and `gridledger flex prove` proves them; the edge
 * agent, started on the same store, commits and proves the other 22 by itself (and keeps its readings
 * of the event's slots private); every validator verifies the proofs; penalties and the payout are
 * computed by hand; every validator ends with the same event; no public API response contains a
 * measured value; the prosumer's private view shows them and flags a tampered store.
 */

/** Wh per minute in hour h: the hourly value is 60 × this, a multiple of 60. */
const perMinute = (h: number) => 17 + 2 * h;
const VALUES = Array.from({ length: 24 }, (_, h) => 60 * perMinute(h));
/** Requested = value + offset; no offset is a multiple of 60, so no requested value or deviation equals a measured one. */
const OFFSETS = [37, -53, 211, -7, 4003, -1201];
const REQUESTED = VALUES.map((v, h) => v + OFFSETS[h % 6]!);
const PENALTY_PER_WH = 2000n;
const byHand = (h: number) => {
  const p = BigInt(Math.abs(OFFSETS[h % 6]!)) * PENALTY_PER_WH;
  return p < NOK ? p : NOK;
};

describe.sequential('flex on a 4-validator devnet', () => {
  const procs = new Processes();
  let dir: string;
  let manifest: DevnetManifest;
  let home: string;
  let url: string;
  let db: string;
  let start: number;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-flex-devnet-'));
    manifest = prepareDevnet(dir, 4, await freeBasePort(4), 'flex-devnet', { blockTimeMs: 300 }, { aggregator: ['aggregator'], prosumer: ['prosumer'], bank: ['issuer'], meter1: ['meter'], gridop: ['grid-operator'] });
    for (const n of manifest.nodes) {
      const genesis = JSON.parse(readFileSync(paths(n.home).genesis, 'utf8'));
      genesis.modules.flex = { enrolGraceMs: 2 * 24 * HOUR, proofWindowMs: 3 * 24 * HOUR };
      writeFileSync(paths(n.home).genesis, JSON.stringify(genesis, null, 2));
    }
    for (const n of manifest.nodes) procs.child(startDevnetNode(n), n.name);
    home = manifest.nodes[0]!.home;
    url = manifest.nodes[0]!.api;
    // Every node is connected to the other three (an idle new chain makes its first heartbeat block only
    // after emptyBlockIntervalMs; the setup transactions below make blocks at once).
    await Promise.all(manifest.nodes.map((n) => waitFor(async () => (await callRoute(n.api, coreRoutes.status, {})).peers.length >= 3, `${n.name} connects to its peers`, 90_000)));

    // the meter's edge store: a sample a minute from a minute before the event to its end
    start = Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR;
    db = join(dir, 'meter1-edge.db');
    const store = new SampleStore(db);
    let register = 1_000_000;
    const samples = [];
    for (let t = start - MINUTE; t <= start + 24 * HOUR; t += MINUTE) {
      const h = Math.floor((t - start) / HOUR);
      if (t >= start && h < 24) register += perMinute(h);
      const power = h >= 0 && h < 24 ? perMinute(h) * 60 : 0;
      samples.push({ meterId: 'M1', timestampMs: t, importT1Wh: register, importT2Wh: 0, exportT1Wh: 0, exportT2Wh: 0, importPowerW: power, exportPowerW: 0, rawHash: createHash('sha256').update(`telegram ${t}`).digest('hex') });
    }
    store.appendBatch(samples);
    store.close();
  }, 180_000);

  afterAll(async () => {
    await closeProver();
    await procs.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<any> {
    const { stdout } = await run('node', [BIN, '--home', home, '--node', url, '-o', 'json', ...args], { maxBuffer: 64 * 1024 * 1024 });
    return JSON.parse(stdout);
  }
  const tx = async (from: string, ...args: string[]) => {
    const res = await cli('--from', from, '--wait', '--wait-seconds', '60', 'tx', ...args);
    expect(res.result.code, res.result.message).toBe('OK');
    return res;
  };

  it('runs a 24-interval event from the edge to the payout; every validator verifies the proofs and agrees', async () => {
    await tx('admin', 'flex', 'register-key');
    await tx('bank', 'pay', 'create-asset', '--code', 'NOK', '--scope', 'flex', '--name', 'Flex kroner');
    await tx('bank', 'pay', 'mint', '--asset', ASSET, '--to', 'aggregator', '--amount', String(100n * NOK), '--deposit-ref', 'BANK-1');
    const keyring = openKeyring(home, 'test');
    await tx('gridop', 'meter', 'register', '--meter', 'M1', '--address', keyring.show('meter1').address, '--max-power-w', '50000');
    await tx('aggregator', 'flex', 'program', '--name', 'Day-ahead profile', '--asset', ASSET, '--reward-per-interval', String(NOK), '--penalty-per-wh', String(PENALTY_PER_WH));
    const created = await tx('aggregator', 'flex', 'event', '--program', 'p1', '--prosumer', 'prosumer', '--start', new Date(start).toISOString(), '--requested', REQUESTED.join(','), '--name', 'tomorrow');
    expect(created.result.events.find((e: any) => e.type === 'flex.event_created').attributes).toMatchObject({ id: 'ev1', deposit: String(24n * NOK) });
    await tx('prosumer', 'flex', 'enrol', '--event', 'ev1', '--meter', 'M1');

    // `gridledger flex commit` (signed by the meter key) commits intervals 0 and 1 from the edge store
    for (const i of ['0', '1']) {
      const committed = await cli('--from', 'meter1', '--wait', '--wait-seconds', '60', 'flex', 'commit', '--event', 'ev1', '--interval', i, '--db', db);
      expect(committed.result.code, committed.result.message).toBe('OK');
      expect(committed.result.events.filter((e: any) => e.type === 'flex.committed')).toHaveLength(1);
    }

    // two proofs through the CLI: one submitted directly, one written to a file and sent with `tx flex prove`
    await cli('--from', 'prosumer', '--wait', '--wait-seconds', '60', 'flex', 'prove', '--event', 'ev1', '--interval', '0', '--db', db);
    const file = join(dir, 'proof-1.json');
    await cli('--from', 'prosumer', 'flex', 'prove', '--event', 'ev1', '--interval', '1', '--db', db, '--out', file, '--offline');
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ event: 'ev1', interval: 1, deviation: 53 });
    await tx('prosumer', 'flex', 'prove', '--event', 'ev1', '--interval', '1', '--deviation', '53', '--proof', `@${file}`);

    // the edge agent on the same store does the other 22 by itself: it finds the meter's active event,
    // commits the ended intervals, proves each committed one (signed with the meter key), and parks
    // its own readings of the event's slots unsent (published, they would reveal the measured values)
    const agent = await EdgeAgent.start(
      parseAgentConfig({ node: url, db, status: null, meters: [{ id: 'M1', key: 'meter1' }], sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }], pollMs: 200, closeAfterMs: 1_000, flex: { pollMs: 500, maxProofsPerRound: 8, retryAfterMs: 60_000 } }),
      { signers: new Map([['M1', { address: keyring.show('meter1').address, signer: keyring.signer('meter1') }]]), logger: pino({ level: 'silent' }) },
    );
    try {
      await waitFor(async () => ((await callRoute(url, flexRoutes.event, { params: { id: 'ev1' } })).event.status === 'completed' ? true : null), 'the agent proves every interval', 480_000);
      expect(agent.flex!.totals).toEqual({ committed: 22, proved: 22 });
      expect(agent.summary().parked).toBe(96);
    } finally {
      await agent.stop();
    }
    // the agent committed intervals 2…23 in one transaction of its own
    const intervals = (await callRoute(url, flexRoutes.event, { params: { id: 'ev1' } })).intervals;
    const commitTxs = new Set(intervals.map((i) => i.committedAt!.txHash));
    expect(commitTxs.size).toBe(3);
    expect(new Set(intervals.slice(2).map((i) => i.committedAt!.txHash)).size).toBe(1);

    // by hand: penalty = min(|offset| × 2000 µ, 1 NOK) per interval
    const toAggregator = Array.from({ length: 24 }, (_, h) => byHand(h)).reduce((a, b) => a + b, 0n);
    expect(toAggregator).toBe(4n * (74_000n + 106_000n + 422_000n + 14_000n + NOK + NOK));
    const toProsumer = 24n * NOK - toAggregator;
    // every validator executed the proofs and holds the same event
    const views = await Promise.all(
      manifest.nodes.map((n) => waitFor(async () => {
        const v = await callRoute(n.api, flexRoutes.event, { params: { id: 'ev1' } });
        return v.event.status === 'completed' ? v : null;
      }, `${n.name} completes ev1`, 60_000)),
    );
    for (const v of views) expect(v).toEqual(views[0]);
    expect(views[0]!.event).toMatchObject({ paidToAggregator: toAggregator.toString(), paidToProsumer: toProsumer.toString(), remaining: '0', settled: 24 });
    expect(views[0]!.intervals.map((i) => i.deviationWh)).toEqual(Array.from({ length: 24 }, (_, h) => Math.abs(OFFSETS[h % 6]!)));
    const balance = async (who: string) => (await cli('--from', who, 'query', 'pay', 'balances', who)).balances.find((b: any) => b.asset === ASSET)?.free ?? '0';
    expect(await balance('prosumer')).toBe(toProsumer.toString());
    expect(await balance('aggregator')).toBe((100n * NOK - toProsumer).toString());
    // the same state root on every validator at a common height
    const height = Math.min(...(await Promise.all(manifest.nodes.map(async (n) => (await callRoute(n.api, coreRoutes.status, {})).height))));
    const roots = await Promise.all(manifest.nodes.map(async (n) => ((await callRoute(n.api, coreRoutes.getBlock, { params: { height } })).block as { header: { stateRoot: string } }).header.stateRoot));
    expect(new Set(roots).size).toBe(1);
    // Each validator answers a status filter from its own query index (ADR 0029 point 1): the same
    // answer on every node, through the CLI, and as a proven answer (which reads the state instead).
    for (const n of manifest.nodes) expect(((await (await fetch(`${n.api}/v1/flex/events?status=completed`)).json()) as { events: Array<{ id: string }> }).events.map((e) => e.id), n.name).toEqual(['ev1']);
    const proven = (await (await fetch(`${url}/v1/flex/events?status=completed&prove=true`)).json()) as { value: { events: Array<{ id: string }> } };
    expect(proven.value.events.map((e) => e.id)).toEqual(['ev1']);
    expect((await cli('query', 'flex', 'events', '--status', 'open')).events).toEqual([]);
    expect((await cli('query', 'flex', 'events', '--status', 'closed')).events.map((e: { id: string }) => e.id)).toEqual(['ev1']);
  }, 600_000);

  it('no public API response contains a measured value: event, events, programs, readings, escrow, every block', async () => {
    const height = (await callRoute(url, coreRoutes.status, {})).height;
    const bodies: unknown[] = [];
    for (const path of ['/v1/flex/events', '/v1/flex/events/ev1', '/v1/flex/programs', '/v1/flex/keys', '/v1/metering/meters/M1/readings', '/v1/payments/escrows/flex%2Fev1', '/v1/payments/escrows?status=all']) {
      const res = await fetch(`${url}${path}`);
      bodies.push(await res.json());
    }
    for (let h = 1; h <= height; h++) bodies.push(await (await fetch(`${url}/v1/blocks/${h}`)).json());
    const leaves: unknown[] = [];
    const walk = (v: unknown): void => {
      if (Array.isArray(v)) v.forEach(walk);
      else if (v !== null && typeof v === 'object') Object.values(v).forEach(walk);
      else leaves.push(v);
    };
    walk(bodies);
    expect(leaves).toContain(REQUESTED[3]); // the scan sees what is public
    for (const v of VALUES) expect(leaves.filter((l) => l === v || l === String(v)), `measured value ${v}`).toEqual([]);
    expect(JSON.stringify(bodies)).toContain('"flex/commit"');
  });

  it("the prosumer's private view shows requested vs measured from its own store and flags a tampered one", async () => {
    const view = await cli('flex', 'private', '--event', 'ev1', '--db', db);
    expect(view.flagged).toBe(0);
    expect(view.intervals.map((i: any) => [i.requestedWh, i.measuredWh, i.deviationWh, i.samplesIntact, i.commitmentMatches])).toEqual(
      REQUESTED.map((r, h) => [r, VALUES[h], Math.abs(OFFSETS[h % 6]!), true, true]),
    );
    // change one stored sample of hour 7 (the store refuses updates; an attacker with the file drops the guard)
    const copy = join(dir, 'tampered.db');
    copyFileSync(db, copy);
    const raw = new Database(copy);
    raw.exec('DROP TRIGGER edge_samples_no_update');
    raw.prepare('UPDATE edge_samples SET import_t1_wh = import_t1_wh + 1 WHERE meter = ? AND ts_ms = ?').run('M1', start + 7 * HOUR + 30 * MINUTE);
    raw.close();
    const err = await run('node', [BIN, '--home', home, '--node', url, '-o', 'json', 'flex', 'private', '--event', 'ev1', '--db', copy]).then(
      () => undefined,
      (e: { code: number; stdout: string }) => e,
    );
    expect(err?.code).toBe(1);
    const tampered = JSON.parse(err!.stdout);
    expect(tampered.flagged).toBe(1);
    expect(tampered.intervals[7]).toMatchObject({ flagged: true, samplesIntact: false, measuredWh: VALUES[7] });
    expect(tampered.intervals[7].problems.join(' ')).toMatch(/altered/);
  });
});
