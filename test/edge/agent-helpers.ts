import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { expect } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import type { Msg } from '../../src/codec/tx.js';
import { EdgeAgent } from '../../src/edge/agent/agent.js';
import { parseAgentConfig, type AgentConfig, type AgentConfigInput } from '../../src/edge/agent/config.js';
import type { MeterSigner } from '../../src/edge/agent/submitter.js';
import { replayTelegrams, type IskraState } from '../../src/edge/p1/replay.js';
import { openKeyring } from '../../src/home/home.js';
import { energyRoutes } from '../../src/modules/energy/routes.js';
import { meteringRoutes } from '../../src/modules/metering/routes.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

/** Accounts of the community node: the owner (utility), two traders and four meter keys. */
export const ACCOUNTS = { owner: ['utility'], alice: ['trader', 'prosumer'], bob: ['trader', 'consumer'], pmeter: ['meter'], cmeter: ['meter'], qmeter: ['meter'], rmeter: ['meter'] };

export async function send(node: TestNode, from: string, msgs: Msg[]): Promise<void> {
  const tx = await node.signedTx(from, msgs);
  const { hash } = await node.call(coreRoutes.submitTx, { body: tx });
  const res = await node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
  expect(res.result?.code, res.result?.message).toBe('OK');
}

export function signerOf(node: TestNode, key: string): MeterSigner {
  const keyring = openKeyring(node.home, 'test');
  return { address: keyring.show(key).address, signer: keyring.signer(key) };
}

/**
 * A node with community "hood" (owner: owner; traders alice and bob) and meters linked in it:
 * P1 (key pmeter) producer of alice with label solar, C1 (cmeter) consumer of bob; Q1 (qmeter) and
 * R1 (rmeter) registered outside the community.
 */
export async function communityNode(): Promise<TestNode> {
  const node = await startTestNode(ACCOUNTS);
  const a = node.init.accounts;
  await send(node, 'owner', [{ type: 'energy/create-community', value: { id: 'hood', name: 'Neighbourhood', timezone: 'Europe/Amsterdam' } }]);
  await send(node, 'owner', [
    { type: 'energy/add-trader', value: { community: 'hood', address: a.alice } },
    { type: 'energy/add-trader', value: { community: 'hood', address: a.bob } },
  ]);
  await send(node, 'owner', [
    { type: 'energy/add-meter', value: { community: 'hood', meterId: 'P1', address: a.pmeter, maxPowerW: 50_000, kind: 'producer', trader: a.alice, labels: ['solar'] } },
    { type: 'energy/add-meter', value: { community: 'hood', meterId: 'C1', address: a.cmeter, maxPowerW: 50_000, kind: 'consumer', trader: a.bob } },
    { type: 'metering/register', value: { meterId: 'Q1', address: a.qmeter, maxPowerW: 50_000 } },
    { type: 'metering/register', value: { meterId: 'R1', address: a.rmeter, maxPowerW: 50_000 } },
  ]);
  return node;
}

/** The first slot of a replay of `slots` slots that ends with the slot that ended last. */
export function recentFirstSlot(slots: number, nowMs = Date.now()): number {
  return Math.floor(nowMs / SLOT_MS) - slots;
}

/** Writes a P1 replay file of `slots` slots from `firstSlot` (one telegram every `intervalMs`), returns the states. */
export function writeReplay(path: string, firstSlot: number, slots: number, options: { seed?: number; intervalMs?: number; edit?: (texts: string[], states: IskraState[]) => void } = {}): IskraState[] {
  const texts: string[] = [];
  const states: IskraState[] = [];
  for (const t of replayTelegrams({ startMs: firstSlot * SLOT_MS, durationMs: slots * SLOT_MS, intervalMs: options.intervalMs ?? 10_000, seed: options.seed ?? 7 })) {
    texts.push(t.text);
    states.push(t.state);
  }
  options.edit?.(texts, states);
  writeFileSync(path, texts.join(''), 'latin1');
  return states;
}

export interface ExpectedSlot {
  slot: number;
  importWh: number;
  exportWh: number;
  sampleCount: number;
}

/**
 * The slot energies the ledger must show, computed from the generator's own register values: the
 * increase between consecutive telegrams belongs to the slot of the later one; a meter's first slot
 * starts at its first telegram.
 */
export function expectedSlots(states: IskraState[]): ExpectedSlot[] {
  const imp = (s: IskraState) => s.importT1Wh + s.importT2Wh;
  const exp = (s: IskraState) => s.exportT1Wh + s.exportT2Wh;
  const bySlot = new Map<number, ExpectedSlot>();
  states.forEach((s, i) => {
    const slot = Math.floor(s.timestampMs / SLOT_MS);
    const e = bySlot.get(slot) ?? { slot, importWh: 0, exportWh: 0, sampleCount: 0 };
    e.sampleCount++;
    if (i > 0) {
      e.importWh += imp(s) - imp(states[i - 1]!);
      e.exportWh += exp(s) - exp(states[i - 1]!);
    }
    bySlot.set(slot, e);
  });
  return [...bySlot.values()].sort((a, b) => a.slot - b.slot);
}

export const silentLogger = pino({ level: 'silent' });

export function agentConfig(node: TestNode, input: Omit<AgentConfigInput, 'node'>): AgentConfig {
  return parseAgentConfig({ node: node.url, status: null, pollMs: 50, flushMs: 20, ...input });
}

export async function startAgent(node: TestNode, config: AgentConfig, keys: Record<string, string>): Promise<EdgeAgent> {
  const signers = new Map(Object.entries(keys).map(([meter, key]) => [meter, signerOf(node, key)]));
  return EdgeAgent.start(config, { signers, logger: silentLogger });
}

export async function readings(node: TestNode, meterId: string) {
  return (await node.callAs('owner', meteringRoutes.listReadings, { params: { meterId }, query: { limit: 5000 } })).readings;
}

export async function balances(node: TestNode, fromSlot: number, toSlot: number) {
  return (await node.callAs('owner', energyRoutes.balances, { params: { id: 'hood' }, query: { fromSlot: String(fromSlot), toSlot: String(toSlot) } })).balances;
}

export const dbPath = (dir: string, name = 'edge.db') => join(dir, name);
