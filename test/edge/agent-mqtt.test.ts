import { connectAsync, type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EdgeAgent } from '../../src/edge/agent/agent.js';
import { agentStatus } from '../../src/edge/agent/server.js';
import { replayTelegrams, type IskraState } from '../../src/edge/p1/replay.js';
import { SLOT_MS } from '../../src/util/slots.js';
import type { TestNode } from '../helpers/node.js';
import { agentConfig, balances, communityNode, dbPath, expectedSlots, readings, recentFirstSlot, startAgent } from './agent-helpers.js';
import { tempDir } from './helpers.js';
import { startMosquitto, type Broker } from './mosquitto.js';

/**
 * dsmr-reader JSON telegrams through a real Mosquitto broker → agent → node: the readings and the
 * community balances are exactly the generator's, the bad messages mixed in are each refused and
 * counted with their reason, and messages published while the agent is down arrive from its
 * persistent session when it comes back.
 */

const TOPIC = 'dsmr/C1/json';
const kwh = (wh: number) => `${Math.floor(wh / 1000)}.${String(wh % 1000).padStart(3, '0')}`;

/** The message dsmr-reader publishes for a telegram (Decimal fields as strings). */
function message(s: IskraState, id: number): Record<string, unknown> {
  return {
    id,
    timestamp: new Date(s.timestampMs).toISOString(),
    electricity_delivered_1: kwh(s.importT1Wh),
    electricity_returned_1: kwh(s.exportT1Wh),
    electricity_delivered_2: kwh(s.importT2Wh),
    electricity_returned_2: kwh(s.exportT2Wh),
    electricity_currently_delivered: kwh(s.importPowerW),
    electricity_currently_returned: kwh(s.exportPowerW),
    phase_currently_delivered_l1: kwh(s.phases[0].importW),
    phase_currently_delivered_l2: null,
    phase_currently_delivered_l3: null,
    phase_currently_returned_l1: kwh(s.phases[0].exportW),
    phase_currently_returned_l2: null,
    phase_currently_returned_l3: null,
    extra_device_timestamp: new Date(s.gasTimestampMs).toISOString(),
    extra_device_delivered: kwh(s.gasDm3),
  };
}

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

let broker: Broker;
let node: TestNode;
let publisher: MqttClient;
const tmp = tempDir('edge-agent-mqtt');

describe('MQTT (dsmr-reader JSON) → Mosquitto → agent → node', () => {
  beforeAll(async () => {
    [broker, node] = await Promise.all([startMosquitto(), communityNode()]);
    publisher = await connectAsync(broker.url, { protocolVersion: 5, clientId: 'test-publisher' });
  });
  afterAll(async () => {
    await publisher?.endAsync();
    await Promise.all([broker?.stop(), node?.cleanup()]);
    tmp.cleanup();
  });

  it('readings and balances per slot are exact; bad messages are refused by reason; the session keeps what arrives while the agent is down', async () => {
    const slots = 8;
    const firstSlot = recentFirstSlot(slots);
    const states = [...replayTelegrams({ startMs: firstSlot * SLOT_MS, durationMs: slots * SLOT_MS, intervalMs: 10_000, seed: 3 })].map((t) => t.state);
    const publish = (payload: string | Buffer) => publisher.publishAsync(TOPIC, payload, { qos: 1 });
    const config = agentConfig(node, {
      db: dbPath(tmp.dir),
      closeAfterMs: 500,
      meters: [{ id: 'C1', key: 'cmeter', community: 'hood' }],
      sources: [{ kind: 'mqtt', url: broker.url, clientId: 'edge-test-c1', topics: [{ topic: TOPIC, meter: 'C1' }] }],
    });
    const connected = (a: EdgeAgent) => (a.sources[0]!.status().connected ? true : undefined);

    // Phase 1: the first half, with one bad message of each kind in between.
    let agent = await startAgent(node, config, { C1: 'cmeter' });
    await until('the agent to subscribe', () => connected(agent));
    const half = states.length / 2;
    for (let i = 0; i < half; i++) {
      const s = states[i]!;
      await publish(JSON.stringify(message(s, i)));
      if (i === 30) await publish(JSON.stringify(message(s, i))); // the same telegram again
      if (i === 60) await publish(JSON.stringify(message({ ...s, timestampMs: s.timestampMs + 5_000, importT1Wh: 0, importT2Wh: 0 }, i))); // registers drop for one sample
      if (i === 90) await publish('{"timestamp": "2026-06-01T10:00:00Z", "electricity_delivered_1": '); // cut off
      if (i === 120) await publish(JSON.stringify({ ...message(s, i), padding: 'x'.repeat(10_000) })); // too large
      if (i === 150) await publish(JSON.stringify({ ...message(s, i), electricity_delivered_1: null })); // required field missing
      if (i === 200) await publish(JSON.stringify(message({ ...s, timestampMs: s.timestampMs - 3_600_000 }, i))); // an hour back: its slot is sealed
      if (i === 210) await publish(JSON.stringify(message({ ...s, timestampMs: s.timestampMs - 5_000 }, i))); // 5 s back, before the latest sample
      if (i === 250) await publish(JSON.stringify(message({ ...s, timestampMs: Date.now() + 3_600_000 }, i))); // clock an hour ahead of now
    }
    const firstHalf = expectedSlots(states.slice(0, half));
    await until('the first half on the ledger', async () => ((await readings(node, 'C1')).length === firstHalf.length ? true : undefined));
    expect(agentStatus(agent).refusals).toEqual({
      SAMPLE_DUPLICATE: 1,
      SAMPLE_REGISTER_GLITCH: 1,
      MQTT_PAYLOAD_NOT_JSON: 1,
      MQTT_PAYLOAD_TOO_LARGE: 1,
      MQTT_FIELD_MISSING: 1,
      SAMPLE_LATE: 1,
      SAMPLE_CLOCK_BACKWARDS: 1,
      SAMPLE_IN_FUTURE: 1,
    });
    await agent.stop();

    // Phase 2: the broker keeps the agent's session while it is down.
    for (let i = half; i < states.length; i++) await publish(JSON.stringify(message(states[i]!, i)));
    agent = await startAgent(node, config, { C1: 'cmeter' });
    const expected = expectedSlots(states);
    await until('every slot on the ledger', async () => ((await readings(node, 'C1')).length === expected.length ? true : undefined));
    await agent.stop();

    const onChain = await readings(node, 'C1');
    expect(onChain.map((r) => ({ slot: r.slot, importWh: r.importWh, exportWh: r.exportWh, sampleCount: r.sampleCount }))).toEqual(
      expected.map((e) => ({ slot: e.slot, importWh: e.importWh, exportWh: e.exportWh, sampleCount: e.sampleCount })),
    );
    // Consumer meter of bob (no labels): export credits and import debits the unlabelled balance.
    const rows = await balances(node, firstSlot, firstSlot + slots);
    const bob = node.init.accounts.bob!;
    for (const e of expected) expect([e.slot, rows.find((b) => b.slot === e.slot && b.trader === bob)?.wh ?? 0]).toEqual([e.slot, e.exportWh - e.importWh]);
  });
});
