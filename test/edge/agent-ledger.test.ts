import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '../../src/api/client.js';
import { edgeRoutes } from '../../src/edge/agent/routes.js';
import { renderIskraTelegram, replayTelegrams, type IskraState } from '../../src/edge/p1/replay.js';
import { startNode } from '../../src/runtime/service.js';
import { SLOT_MS } from '../../src/util/slots.js';
import type { TestNode } from '../helpers/node.js';
import { agentConfig, communityNode, dbPath, expectedSlots, readings, recentFirstSlot, send, startAgent, writeReplay } from './agent-helpers.js';
import { tempDir } from './helpers.js';

/**
 * The agent against the ledger's rules: a meter that already has readings on the ledger (bootstrap),
 * a meter swap in the middle of a replay, and a node that goes away while readings are due (spool,
 * backoff), watched through the agent's status API.
 */

let node: TestNode;
const tmp = tempDir('edge-agent-ledger');
beforeAll(async () => {
  node = await communityNode();
});
afterAll(async () => {
  await node.cleanup();
  tmp.cleanup();
});

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('agent and ledger', () => {
  it('bootstrap: continues a meter whose readings the ledger already holds (registers and seq), skipping the slots it covers', async () => {
    const firstSlot = recentFirstSlot(5);
    // Typed by hand earlier: registers on another scale than the meter's, seq 7, for the slot before the agent's first.
    await send(node, 'rmeter', [{ type: 'metering/reading', value: { meterId: 'R1', slot: firstSlot - 1, importWh: 50, exportWh: 0, importRegisterWh: 100, exportRegisterWh: 7, seq: 7 } }]);
    const file = join(tmp.dir, 'bootstrap.p1');
    const states = writeReplay(file, firstSlot - 2, 6, { seed: 13 });
    const agent = await startAgent(node, agentConfig(node, { db: dbPath(tmp.dir, 'bootstrap.db'), meters: [{ id: 'R1', key: 'rmeter' }], sources: [{ kind: 'file', meter: 'R1', path: file }], exitWhenDone: true }), { R1: 'rmeter' });
    const summary = await agent.done;
    expect(summary, JSON.stringify(agent.spool.entries())).toMatchObject({ delivered: 4, parked: 0 });
    expect(agent.sealer.counters().skippedSlots).toBe(2);
    await agent.stop();

    const onChain = await readings(node, 'R1');
    expect(onChain.map((r) => r.slot)).toEqual([firstSlot - 1, firstSlot, firstSlot + 1, firstSlot + 2, firstSlot + 3]);
    const expected = expectedSlots(states).slice(2);
    const mine = onChain.slice(1);
    expect(mine.map((r) => [r.slot, r.importWh, r.exportWh])).toEqual(expected.map((e) => [e.slot, e.importWh, e.exportWh]));
    // The first reading starts exactly where the ledger's last one ended (adjacent slots), the rest follow.
    expect([mine[0]!.importRegisterWh - mine[0]!.importWh, mine[0]!.exportRegisterWh - mine[0]!.exportWh]).toEqual([100, 7]);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.importRegisterWh - mine[i]!.importWh).toBe(mine[i - 1]!.importRegisterWh);
    // seq = the ledger's 7 + the store's sequence number of the slot's last sample (90 telegrams a slot).
    expect(mine.map((r) => r.seq)).toEqual([7 + 270, 7 + 360, 7 + 450, 7 + 540]);
  });

  it('a meter swap mid-replay: registers restart lower, the slot counts 0 Wh across the swap, the ledger accepts every reading', async () => {
    const firstSlot = recentFirstSlot(4);
    const file = join(tmp.dir, 'swap.p1');
    const swapAt = 150; // in the second slot
    let original: IskraState[] = [];
    writeReplay(file, firstSlot, 4, {
      seed: 17,
      edit: (texts, states) => {
        original = states.map((s) => ({ ...s }));
        const base = states[swapAt]!;
        for (let i = swapAt; i < states.length; i++) {
          const s = states[i]!;
          // The new meter started at 3 Wh on every register.
          const swapped = { ...s, importT1Wh: s.importT1Wh - base.importT1Wh + 3, importT2Wh: s.importT2Wh - base.importT2Wh + 3, exportT1Wh: s.exportT1Wh - base.exportT1Wh + 3, exportT2Wh: s.exportT2Wh - base.exportT2Wh + 3 };
          texts[i] = renderIskraTelegram(swapped);
        }
      },
    });
    const agent = await startAgent(node, agentConfig(node, { db: dbPath(tmp.dir, 'swap.db'), meters: [{ id: 'Q1', key: 'qmeter' }], sources: [{ kind: 'file', meter: 'Q1', path: file }], exitWhenDone: true }), { Q1: 'qmeter' });
    expect(await agent.done).toMatchObject({ delivered: 4, parked: 0 });
    expect(agent.ingestor.counters().registerResets).toBe(1);
    await agent.stop();

    const expected = expectedSlots(original);
    // The increase into the swap sample is unknown: not counted.
    const imp = (s: IskraState) => s.importT1Wh + s.importT2Wh;
    const exp = (s: IskraState) => s.exportT1Wh + s.exportT2Wh;
    expected[1]!.importWh -= imp(original[swapAt]!) - imp(original[swapAt - 1]!);
    expected[1]!.exportWh -= exp(original[swapAt]!) - exp(original[swapAt - 1]!);
    const onChain = await readings(node, 'Q1');
    expect(onChain.map((r) => [r.slot, r.importWh, r.exportWh, r.sampleCount])).toEqual(expected.map((e) => [e.slot, e.importWh, e.exportWh, e.sampleCount]));
    for (let i = 1; i < onChain.length; i++) expect(onChain[i]!.importRegisterWh - onChain[i]!.importWh).toBe(onChain[i - 1]!.importRegisterWh);
  });

  it('node away: readings wait in the spool, are retried with backoff and delivered when it returns; the status API shows it', async () => {
    const firstSlot = recentFirstSlot(3);
    const config = agentConfig(node, {
      db: dbPath(tmp.dir, 'outage.db'),
      status: { host: '127.0.0.1', port: 0 },
      closeAfterMs: 300,
      backoffBaseMs: 100,
      backoffMaxMs: 400,
      meters: [{ id: 'P1', key: 'pmeter', community: 'hood' }],
      sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }],
    });
    const agent = await startAgent(node, config, { P1: 'pmeter' });
    const api = createClient(agent.statusUrl!, edgeRoutes);
    await until('the meter to be ready', async () => ((await api.edgeStatus({})).meters[0]!.ready ? true : undefined));

    const port = Number(new URL(node.url).port);
    await node.running.stop();
    const telegrams = [...replayTelegrams({ startMs: firstSlot * SLOT_MS, durationMs: 3 * SLOT_MS, intervalMs: 10_000, seed: 19 })];
    const post = async (text: string) => {
      const res = await fetch(`${agent.intakeUrl}/v1/edge/samples?meter=P1`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: text });
      expect(res.status).toBe(200);
      return ((await res.json()) as { results: Array<{ status: string; code?: string }> }).results;
    };
    for (let i = 0; i < telegrams.length; i += 45) {
      const results = await post(telegrams.slice(i, i + 45).map((t) => t.text).join(''));
      expect(results.map((r) => r.status)).toEqual(Array(45).fill('stored'));
    }
    expect(await post(telegrams[5]!.text.replace('!', '?'))).toEqual([expect.objectContaining({ status: 'refused', code: 'P1_TRUNCATED' })]);

    // All three slots sealed (the last one after 300 ms of silence), none deliverable.
    const waiting = await until('three readings in the spool with failed attempts', async () => {
      const s = await api.edgeStatus({});
      return s.spool.pending === 3 && s.submission.failures! >= 3 ? s : undefined;
    });
    expect(waiting.meters[0]!.lastDelivered).toBeUndefined();
    expect(agent.spool.entries().every((e) => e.attempts >= 1 && /NODE_UNREACHABLE/.test(e.lastError ?? ''))).toBe(true);

    node.running = await startNode(node.home, { apiPort: port, logger: pino({ level: 'silent' }) });
    await until('the readings on the ledger', async () => ((await readings(node, 'P1')).length === 3 ? true : undefined));
    const done = await until('the agent to see them delivered', async () => {
      const s = await api.edgeStatus({});
      return s.spool.pending === 0 && s.meters[0]!.delivered === 3 ? s : undefined;
    });
    expect(done.meters[0]!.lastDelivered).toMatchObject({ slot: firstSlot + 2, outcome: 'committed' });
    expect(done.meters[0]!.latest?.telegram).toContain('1-0:1.8.1');
    expect(done.refusals).toEqual({ P1_TRUNCATED: 1 });
    const expected = expectedSlots(telegrams.map((t) => t.state));
    expect((await readings(node, 'P1')).map((r) => [r.slot, r.importWh, r.exportWh])).toEqual(expected.map((e) => [e.slot, e.importWh, e.exportWh]));

    // Per-minute data from the store for the day of the first slot, and verification against the ledger.
    const minutes = await api.edgeMinutes({ params: { meterId: 'P1' }, query: { day: new Date(firstSlot * SLOT_MS + 3_600_000).toISOString().slice(0, 10), timezone: 'UTC' } });
    expect(minutes.minutes).toHaveLength((minutes.toMs - minutes.fromMs) / 60_000);
    const inDay = telegrams.filter((t) => t.state.timestampMs >= minutes.fromMs && t.state.timestampMs < minutes.toMs).length;
    expect(minutes.totals.samples).toBe(inDay);
    const verified = await api.edgeVerify({ params: { meterId: 'P1' }, query: { fromSlot: String(firstSlot), toSlot: String(firstSlot + 3) } });
    expect(verified).toMatchObject({ ok: true, summary: { intact: 3 } });
    // The dashboard's default: the last day, which starts long before this meter's first sample.
    expect(await api.edgeVerify({ params: { meterId: 'P1' }, query: {} })).toMatchObject({ ok: true, summary: { intact: 3, altered: 0 } });
    const page = await fetch(`${agent.statusUrl}/`);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(await page.text()).toContain('GridLedger edge agent');
    await agent.stop();
  });
});
