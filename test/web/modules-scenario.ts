import { createHash } from 'node:crypto';
import { coreRoutes } from '../../src/api/routes.js';
import { checkpointPayload } from '../../src/bitcoin/index.js';
import type { Msg } from '../../src/codec/tx.js';
import { anchorRoutes } from '../../src/modules/anchor/routes.js';
import { checkpointOf } from '../../src/modules/anchor/rules.js';
import { eventField } from '../../src/modules/flex/keeper.js';
import { MSG as FLEX } from '../../src/modules/flex/messages.js';
import { MSG as MARKET } from '../../src/modules/market/messages.js';
import { MSG as METERING } from '../../src/modules/metering/messages.js';
import { MSG as PAYMENTS } from '../../src/modules/payments/messages.js';
import { loadVerifyingKey } from '../../src/zk/artifacts.js';
import { deviationCommitment } from '../../src/zk/circuits.js';
import { verifyingKeyId } from '../../src/zk/encoding.js';
import { closeProver, proveDeviation } from '../../src/zk/prove.js';
import { anchorTx, blockWith, confirmMsg } from '../anchor/helpers.js';
import { buildScenario, commit, type Scenario } from '../auth/scenario.js';

/**
 * The read-policy scenario (test/auth/scenario.ts: the HanzeNet example, a shared PV plant, a
 * payments asset with an escrow and a channel, a market with alice's bid and contract) plus what the
 * payments, market, flex and anchor pages show:
 *   payments: the bank attests its reserve; alice, bob and the aggregator get more euros.
 *   market:   alice offers 1 kWh of solar at 90 000 µ/kWh for slot S+10 and bob's bid at 100 000
 *             trades with it (continuous market), and
 *             alice's offer of 500 Wh at 120 000 for slot S+12 stays open on the advert board.
 *   flex:     program p1 of the aggregator (hourly intervals, 1 € reward, 2 000 µ/Wh penalty); event
 *             ev1 for alice on meter P1 (two hours that ended, requested 500 and 400 Wh) enrolled,
 *             committed by the meter and proved (measured 480 and 400 Wh: deviations 20 and 0 Wh);
 *             event ev2 offered to alice (the page enrols her).
 *   anchor:   checkpoints every 5 blocks on regtest; meter A1's reading carries a sample fingerprint;
 *             the checkpoint covering it is anchored by a real (unbroadcast) Bitcoin transaction and
 *             confirmed in a synthetic block with a real Merkle tree and a header at the regtest target.
 * The chain lets events start in the past (enrolGraceMs two days) so no interval needs waiting for.
 */

export const MODULE_ACCOUNTS = { aggregator: ['aggregator'], anchorop: ['anchor-operator'], ameter: ['meter'] };
export const CHECKPOINT_INTERVAL = 5;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Measured and requested Wh of ev1's intervals (the measured values stay off the ledger). */
export const FLEX_MEASURED = [480, 400];
export const FLEX_REQUESTED = [500, 400];

export interface ModulesScenario extends Scenario {
  /** The market trade of slot S+10 (bob buys alice's offer); alice's open offer is for S+12. */
  tradeSlot: number;
  openOfferSlot: number;
  flexEvent: string;
  offeredEvent: string;
  /** The anchored and confirmed checkpoint, and one without an anchor (the page records it). */
  anchored: number;
  unanchored: number;
  /** Raw transaction (hex) and txid anchoring the unanchored checkpoint, built by the test's wallet. */
  unanchoredTx: { txid: string; rawHex: string };
}

async function addPayments(s: Scenario): Promise<void> {
  await commit(s.node, 'bank', [
    { type: PAYMENTS.mint, value: { asset: s.asset, to: s.addr.alice!, amount: '2000000', depositRef: 'DEP-2' } },
    { type: PAYMENTS.mint, value: { asset: s.asset, to: s.addr.bob!, amount: '2000000', depositRef: 'DEP-3' } },
    { type: PAYMENTS.mint, value: { asset: s.asset, to: s.addr.aggregator!, amount: '5000000', depositRef: 'DEP-4' } },
    { type: PAYMENTS.attest, value: { asset: s.asset, reserve: '10000000', ref: 'AUDIT-1' } },
  ]);
}

async function addMarket(s: Scenario): Promise<number> {
  const slot = s.slot + 10;
  await commit(s.node, 'alice', [{ type: MARKET.offer, value: { community: s.community, slot, wh: 1000, price: 90_000, labels: ['solar'] } }]);
  await commit(s.node, 'bob', [{ type: MARKET.bid, value: { community: s.community, slot, wh: 1000, price: 100_000 } }]);
  await commit(s.node, 'alice', [{ type: MARKET.offer, value: { community: s.community, slot: s.slot + 12, wh: 500, price: 120_000, labels: ['solar'] } }]);
  return slot;
}

async function addFlex(s: Scenario): Promise<{ flexEvent: string; offeredEvent: string }> {
  const vk = loadVerifyingKey('deviation');
  await commit(s.node, 'admin', [{ type: FLEX.registerKey, value: { circuit: 'deviation', key: vk } }]);
  await commit(s.node, 'aggregator', [
    { type: FLEX.program, value: { name: 'Evening peak', intervalMinutes: 60, asset: s.asset, rewardPerInterval: '1000000', penaltyPerWh: '2000', proofSystem: 'groth16-bn254', verifyingKey: verifyingKeyId(vk) } },
  ]);
  // Two hours that ended before the example's slot S, so P1's public reading is not in them.
  const start = Math.floor((s.slot * 900_000) / HOUR) * HOUR - 3 * HOUR;
  const created = await commit(s.node, 'aggregator', [
    { type: FLEX.event, value: { program: 'p1', prosumer: s.addr.alice!, payloadType: 'IMPORT_ENERGY', start, requestedWh: FLEX_REQUESTED, memo: 'evening peak shaving' } },
    { type: FLEX.event, value: { program: 'p1', prosumer: s.addr.alice!, payloadType: 'IMPORT_ENERGY', start: start + DAY, requestedWh: [300, 300, 300] } },
  ]);
  const [flexEvent, offeredEvent] = created.events.filter((e) => e.type === 'flex.event_created').map((e) => e.attributes.id!);
  await commit(s.node, 'alice', [{ type: FLEX.enrol, value: { event: flexEvent, meterId: 'P1' } }]);
  const salt = (i: number) => 987_654_321n + BigInt(i);
  await commit(
    s.node,
    'pmeter',
    FLEX_MEASURED.map((v, i): Msg => ({ type: FLEX.commit, value: { event: flexEvent, interval: i, commitment: String(deviationCommitment(BigInt(v), salt(i))), fingerprints: [] } })),
  );
  const proofs = [];
  for (const [i, v] of FLEX_MEASURED.entries()) {
    const { proof } = await proveDeviation({ value: BigInt(v), salt: salt(i), requested: BigInt(FLEX_REQUESTED[i]!), eventId: eventField('test-chain', flexEvent!), intervalIndex: BigInt(i) });
    proofs.push({ type: FLEX.prove, value: { event: flexEvent, interval: i, deviation: Math.abs(FLEX_REQUESTED[i]! - v), proof } } as Msg);
  }
  await closeProver();
  await commit(s.node, 'alice', proofs);
  return { flexEvent: flexEvent!, offeredEvent: offeredEvent! };
}

const FUNDING = { txid: createHash('sha256').update('dashboard anchor funding').digest('hex'), vout: 0, value: 100_000n };

/**
 * Checkpoints follow blocks, and an idle test node makes a block only every 30 s: a transaction makes
 * one at once. This one is refused by its rule (no checkpoint at height 1), which changes nothing but
 * the sender's nonce, and still fills a block.
 */
async function nextBlock(s: Scenario): Promise<void> {
  const tx = await s.node.signedTx('anchorop', [{ type: 'anchor/record', value: { height: 1, txid: '00'.repeat(32), rawTx: '00' } }]);
  const { hash } = await s.node.call(coreRoutes.submitTx, { body: tx });
  await s.node.call(coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
}

async function checkpointsUpTo(s: Scenario, count: number) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { checkpoints } = await s.node.call(anchorRoutes.listCheckpoints, { query: { limit: 100 } });
    if (checkpoints.length >= count) return checkpoints;
    if (Date.now() > deadline) throw new Error(`only ${checkpoints.length} checkpoints after a minute`);
    await nextBlock(s);
  }
}

async function addAnchors(s: Scenario): Promise<Pick<ModulesScenario, 'anchored' | 'unanchored' | 'unanchoredTx'>> {
  await commit(s.node, 'gridop', [{ type: METERING.register, value: { meterId: 'A1', address: s.addr.ameter!, maxPowerW: 50_000 } }]);
  const fingerprint = createHash('sha256').update('dashboard samples of A1').digest('hex');
  await commit(s.node, 'ameter', [
    { type: METERING.reading, value: { meterId: 'A1', slot: s.slot, importWh: 120, exportWh: 0, importRegisterWh: 120, exportRegisterWh: 0, seq: 1, fingerprint, sampleCount: 90 } },
  ]);
  const readAt = (await s.node.call(anchorRoutes.anchorStatus, {})).height;
  // The checkpoint at the first multiple of K at or above the reading's height covers it.
  const all = await checkpointsUpTo(s, Math.ceil(readAt / CHECKPOINT_INTERVAL));
  const covering = all.find((c) => c.itemCount > 0);
  if (!covering) throw new Error(`no checkpoint up to height ${readAt} covers meter A1's fingerprint`);
  const other = all.find((c) => c.height !== covering.height)!;
  const txFor = (c: typeof covering, sequence: number) => anchorTx(checkpointPayload(checkpointOf('test-chain', c)), sequence, { ...FUNDING, vout: sequence });
  const anchoredTx = txFor(covering, 0);
  const block = blockWith(anchoredTx.txid, 2, 7, { time: Math.floor(Date.now() / 1000) });
  await commit(s.node, 'anchorop', [{ type: 'anchor/record', value: { height: covering.height, txid: anchoredTx.txid, rawTx: anchoredTx.rawHex } }]);
  await commit(s.node, 'anchorop', [confirmMsg(covering.height, block, 900_123)]);
  const unanchoredTx = txFor(other, 1);
  return { anchored: covering.height, unanchored: other.height, unanchoredTx: { txid: unanchoredTx.txid, rawHex: unanchoredTx.rawHex } };
}

export async function buildModulesScenario(): Promise<ModulesScenario> {
  const s = await buildScenario({
    extraAccounts: MODULE_ACCOUNTS,
    genesisModules: { flex: { enrolGraceMs: 2 * DAY, proofWindowMs: 3 * DAY }, anchor: { checkpointInterval: CHECKPOINT_INTERVAL, network: 'regtest' } },
  });
  await addPayments(s);
  const tradeSlot = await addMarket(s);
  const flex = await addFlex(s);
  const anchors = await addAnchors(s);
  return { ...s, tradeSlot, openOfferSlot: s.slot + 12, ...flex, ...anchors };
}
