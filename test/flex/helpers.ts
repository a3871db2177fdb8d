import { expect } from 'vitest';
import { NONCE_PREFIX } from '../../src/app/nonce.js';
import type { Msg } from '../../src/codec/tx.js';
import { energyCore } from '../../src/modules/energy/module.js';
import { flexCore } from '../../src/modules/flex/module.js';
import { eventField } from '../../src/modules/flex/keeper.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { paymentsCore } from '../../src/modules/payments/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { loadVerifyingKey } from '../../src/zk/artifacts.js';
import { deviationCommitment } from '../../src/zk/circuits.js';
import { verifyingKeyId, type Groth16Proof } from '../../src/zk/encoding.js';
import { proveDeviation } from '../../src/zk/prove.js';
import { account, TestChain, type TestAccount } from '../helpers/chain.js';

export const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
export const HOUR = 3_600_000;
export const ASSET = 'NOK@microgrid';
export const NOK = 1_000_000n;
export const CHAIN_ID = 'test-chain';

export const agg = account('aggregator');
export const agg2 = account('aggregator2');
export const pros = account('prosumer');
export const pros2 = account('prosumer2');
export const bank = account('bank');
export const meter1 = account('meter1');
export const meter2 = account('meter2');
export const gridop = account('gridop');
export const outsider = account('outsider');

export const VK = loadVerifyingKey('deviation');
export const VK_ID = verifyingKeyId(VK);

export function flexChain(genesisFlex: Record<string, unknown> = {}): TestChain {
  return new TestChain({
    modules: [registryCore, meteringCore, energyCore, paymentsCore, flexCore],
    genesisTime: GENESIS_TIME,
    genesisModules: { payments: {}, flex: genesisFlex },
    accounts: { aggregator: ['aggregator'], aggregator2: ['aggregator'], prosumer: ['prosumer'], prosumer2: ['prosumer'], bank: ['issuer'], meter1: ['meter'], meter2: ['meter'], gridop: ['grid-operator'] },
  });
}

export const m = {
  registerKey: (key: unknown = VK): Msg => ({ type: 'flex/register-key', value: { circuit: 'deviation', key } }),
  program: (over: Record<string, unknown> = {}): Msg => ({
    type: 'flex/program',
    value: { name: 'Evening peak', intervalMinutes: 60, asset: ASSET, rewardPerInterval: String(NOK), penaltyPerWh: '2000', proofSystem: 'groth16-bn254', verifyingKey: VK_ID, ...over },
  }),
  event: (over: Record<string, unknown> = {}): Msg => ({ type: 'flex/event', value: { program: 'p1', prosumer: pros.address, payloadType: 'IMPORT_ENERGY', start: GENESIS_TIME + HOUR, requestedWh: [500, 400], ...over } }),
  enrol: (event = 'ev1', meterId = 'M1'): Msg => ({ type: 'flex/enrol', value: { event, meterId } }),
  withdraw: (event = 'ev1'): Msg => ({ type: 'flex/withdraw', value: { event } }),
  commit: (event: string, interval: number, commitment: bigint | string, fingerprints: unknown[] = []): Msg => ({ type: 'flex/commit', value: { event, interval, commitment: String(commitment), fingerprints } }),
  prove: (event: string, interval: number, deviation: number, proof: unknown): Msg => ({ type: 'flex/prove', value: { event, interval, deviation, proof } }),
  registerMeter: (meterId: string, who: TestAccount): Msg => ({ type: 'metering/register', value: { meterId, address: who.address, maxPowerW: 50_000 } }),
  reading: (meterId: string, slot: number, importWh: number, reg: number, seq: number): Msg => ({
    type: 'metering/reading',
    value: { meterId, slot, importWh, exportWh: 0, importRegisterWh: reg, exportRegisterWh: 0, seq },
  }),
};

export function ok(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], time?: number) {
  const res = chain.send(from, msgs, time);
  expect(res.message, `${res.code}: ${res.message}`).toBe('');
  expect(res.code).toBe('OK');
  return res;
}

/** A transaction that must be rejected with `code`, changing nothing but the sender's nonce. */
export function rejects(chain: TestChain, from: TestAccount, msgs: Msg | Msg[], code: string, time?: number): string {
  const before = new Map(chain.storage.allState());
  const res = chain.send(from, msgs, time);
  expect(res.code, res.message).toBe(code);
  const after = new Map(chain.storage.allState());
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
  expect(changed).toEqual([NONCE_PREFIX + from.address]);
  return res.message;
}

export function balance(chain: TestChain, who: TestAccount): bigint {
  return BigInt(chain.store.get<{ a: string }>(`payments/bal/${who.address}/${ASSET}`)?.a ?? '0');
}

export function eventAttr(res: { events: Array<{ type: string; attributes: Record<string, string> }> }, type: string, attr: string): string {
  const e = res.events.find((x) => x.type === type);
  if (!e) throw new Error(`no ${type} event in ${JSON.stringify(res.events)}`);
  return e.attributes[attr]!;
}

/** Key registered, asset NOK@microgrid with 1000 NOK for the aggregator, meter M1 (meter1's key), program p1. */
export function readyChain(genesisFlex: Record<string, unknown> = {}, program: Record<string, unknown> = {}): TestChain {
  const chain = flexChain(genesisFlex);
  ok(chain, chain.operator, m.registerKey());
  ok(chain, bank, { type: 'payments/create-asset', value: { code: 'NOK', scope: 'microgrid', name: 'Microgrid kroner' } });
  ok(chain, bank, { type: 'payments/mint', value: { asset: ASSET, to: agg.address, amount: String(1000n * NOK), depositRef: 'BANK-1' } });
  ok(chain, gridop, m.registerMeter('M1', meter1));
  ok(chain, gridop, m.registerMeter('M2', meter2));
  ok(chain, agg, m.program(program));
  return chain;
}

/** readyChain + event ev1 (requested profile) enrolled by the prosumer with M1. */
export function activeEvent(requestedWh: number[], options: { genesisFlex?: Record<string, unknown>; program?: Record<string, unknown>; start?: number } = {}): TestChain {
  const chain = readyChain(options.genesisFlex, options.program);
  ok(chain, agg, m.event({ requestedWh, ...(options.start !== undefined ? { start: options.start } : {}) }));
  ok(chain, pros, m.enrol());
  return chain;
}

export const slotOf = (ms: number) => Math.floor(ms / SLOT_MS);

// ── proofs, made once per distinct statement and shared by the tests of a file ──

const proofs = new Map<string, Promise<Groth16Proof>>();

/** A proof that the interval's value (committed with salt) deviates |requested − value| from requested. */
export function proofFor(args: { value: bigint; salt: bigint; requested: number; event: string; interval: number; chainId?: string }): Promise<Groth16Proof> {
  const key = JSON.stringify({ ...args, value: String(args.value), salt: String(args.salt) });
  let p = proofs.get(key);
  if (!p) {
    p = proveDeviation({ value: args.value, salt: args.salt, requested: BigInt(args.requested), eventId: eventField(args.chainId ?? CHAIN_ID, args.event), intervalIndex: BigInt(args.interval) }).then((b) => b.proof);
    proofs.set(key, p);
  }
  return p;
}

export const commitmentOf = (value: bigint, salt: bigint) => deviationCommitment(value, salt);
export const saltFor = (i: number) => 1_000_003n * BigInt(i + 1) + 77_777_777_777n;
