import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentStatus } from '../../src/edge/agent/server.js';
import { renderIskraTelegram, type IskraState } from '../../src/edge/p1/replay.js';
import { SampleStore } from '../../src/edge/store.js';
import type { TestNode } from '../helpers/node.js';
import { agentConfig, balances, communityNode, dbPath, expectedSlots, readings, recentFirstSlot, startAgent, writeReplay } from './agent-helpers.js';
import { tempDir } from './helpers.js';

/**
 * A day of P1 telegrams (one every 10 s, generated from the real meter's layout) replayed from a file
 * through the agent into a real node: every slot's reading, and the community balances per slot, are
 * exactly what the generator's registers say, although bad telegrams are mixed in (each refused and
 * counted with its reason).
 */

let node: TestNode;
const tmp = tempDir('edge-agent-p1');
beforeAll(async () => {
  node = await communityNode();
});
afterAll(async () => {
  await node.cleanup();
  tmp.cleanup();
});

describe('P1 replay of a day → agent → node', () => {
  it('puts one reading per slot on the ledger with the exact energies, registers, fingerprints and balances', async () => {
    const slots = 96;
    const firstSlot = recentFirstSlot(slots);
    const file = `${tmp.dir}/day.p1`;
    // Bad input mixed into the stream, each refused with its reason; none of it may change a reading.
    const bad = (texts: string[], states: IskraState[]) => {
      const after = (i: number, extra: string) => (texts[i] += extra);
      const flipped = texts[100]!.replace('1-0:1.8.1(', '1-0:1.8.1(9').replace('(9000', '(0000');
      after(100, flipped); // one byte changed, CRC unchanged
      after(200, texts[201]!.slice(0, 300)); // cut off: the next telegram interrupts it
      after(300, '\u0000\u00ff line noise \r\n'); // bytes outside any telegram
      after(400, texts[400]!); // the same telegram twice
      after(500, renderIskraTelegram({ ...states[500]!, timestampMs: states[500]!.timestampMs + 5_000, importT1Wh: 0, importT2Wh: 0 })); // registers drop for one telegram
      after(600, texts[601]!.replace(/!.*\r\n$/, '')); // no end line
      after(700, `/ISK5\\2M550T-1012\r\n\r\n${'1-0:99.99.9(12345)\r\n'.repeat(600)}!0000\r\n`); // 12 KiB
      after(800, renderIskraTelegram({ ...states[800]!, timestampMs: Date.now() + 86_400_000 })); // meter clock a day ahead
    };
    const states = writeReplay(file, firstSlot, slots, { seed: 21, edit: bad });
    const expected = expectedSlots(states);
    expect(expected).toHaveLength(96);
    expect(expected.some((e) => e.exportWh > 0)).toBe(true);

    const config = agentConfig(node, { db: dbPath(tmp.dir), meters: [{ id: 'P1', key: 'pmeter', community: 'hood' }], sources: [{ kind: 'file', meter: 'P1', path: file, speed: 'max' }], exitWhenDone: true });
    const agent = await startAgent(node, config, { P1: 'pmeter' });
    const summary = await agent.done;
    expect(agentStatus(agent).refusals).toEqual({ P1_BAD_CRC: 1, P1_TRUNCATED: 2, P1_OVERSIZED: 1, SAMPLE_DUPLICATE: 1, SAMPLE_REGISTER_GLITCH: 1, SAMPLE_IN_FUTURE: 1 });
    expect(agentStatus(agent).sources[0]!.counters.bytesDropped).toBeGreaterThan(0);
    await agent.stop();
    expect(summary).toEqual({ delivered: 96, parked: 0, keptPrivate: 0, pending: 0 });

    const onChain = await readings(node, 'P1');
    expect(onChain.map((r) => r.slot)).toEqual(expected.map((e) => e.slot));
    const regImport = (s: (typeof states)[number]) => s.importT1Wh + s.importT2Wh;
    let lastOfSlot = 0;
    onChain.forEach((r, i) => {
      const e = expected[i]!;
      lastOfSlot += e.sampleCount;
      expect({ slot: r.slot, importWh: r.importWh, exportWh: r.exportWh, sampleCount: r.sampleCount }).toEqual({ slot: e.slot, importWh: e.importWh, exportWh: e.exportWh, sampleCount: e.sampleCount });
      // New meter: registers are the meter's own, seq = store sequence number of the slot's last sample.
      expect(r.importRegisterWh).toBe(regImport(states[lastOfSlot - 1]!));
      expect(r.seq).toBe(lastOfSlot);
      expect(r.fingerprint).toMatch(/^[0-9a-f]{64}$/);
    });
    // Fingerprints are the store's slot chain heads.
    const store = new SampleStore(config.db);
    for (const r of onChain) expect(r.fingerprint).toBe(store.samplesInSlot('P1', r.slot).at(-1)!.link);
    store.close();

    // Producer meter of alice, label solar: export credits solar, import debits unlabelled, per slot.
    const rows = await balances(node, firstSlot, firstSlot + slots);
    const alice = node.init.accounts.alice!;
    for (const e of expected) {
      const at = (labels: string[]) => rows.find((b) => b.slot === e.slot && b.trader === alice && b.labels.join(',') === labels.join(','))?.wh ?? 0;
      expect([e.slot, at(['solar']), at([])]).toEqual([e.slot, e.exportWh, 0 - e.importWh]);
    }
  });
});
