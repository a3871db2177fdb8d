import { floorDiv } from '../../util/int.js';
import { E } from './errors.js';
import type { ContractDisputeMsg, ContractIdMsg, ContractProposeMsg, ContractResolveMsg } from './messages.js';
import { deliverFrom, sourcesFor } from './sources.js';
import { canTrade, currentSlot, DEFAULT_NOTICE_SLOTS, FUNDS, minBig, requireMarket, requireTrader, slotStart, txRef, valueOf, type MarketContext } from './rules.js';
import {
  active,
  activeBy,
  contractBy,
  contractIdsToCheck,
  contractSlots,
  deposits,
  getContract,
  getOrder,
  getTrade,
  lapses,
  nextNumber,
  numberOf,
  openBy,
  putContract,
  tradeBy,
  type Contract,
  type ContractSlot,
  type MarketConfig,
} from './state.js';

/**
 * Supply contracts (Tundal): a consumer and a prosumer both sign; in every slot from start to end the
 * consumer's metered import is covered first from the prosumer's metered production, up to
 * maxPowerW × 15 min, at the contract price. The consumer locks the largest payment of every slot
 * (⌊capWh × price / 1000⌋ each) when it signs, so payments need no signer later; a slot pays
 * ⌊covered × price / 1000⌋ to the prosumer and returns the rest of its share at once. While the
 * contract runs the consumer's other bids in the community are refused. Either party ends it with
 * notice; a deposit, when required, sits in a payments escrow until the dispute window after the
 * end passed, and in a dispute the mediator divides it.
 */

export const contractRef = (id: string) => `contract/${id}`;
export const depositRef = (id: string) => `contract/${id}/deposit`;

function requireContract(ctx: MarketContext, id: string): Contract {
  const k = getContract(ctx.store, id);
  if (!k) throw E.MARKET_CONTRACT_NOT_FOUND(`no supply contract ${id}`);
  return k;
}

function requireParty(ctx: MarketContext, k: Contract): void {
  if (ctx.sender !== k.consumer && ctx.sender !== k.prosumer) throw E.MARKET_NOT_PARTY(`only ${k.consumer} or ${k.prosumer} may do this`);
}

function slotsOf(k: Pick<Contract, 'startSlot' | 'endSlot'>): number {
  return k.endSlot - k.startSlot;
}

/** Refuses a contract overlapping an active contract of the same consumer in the community. */
function requireNoOverlap(ctx: MarketContext, k: Contract): void {
  for (const id of contractIdsToCheck(ctx.store, ctx.stateVersion, k.community, k.consumer)) {
    const other = getContract(ctx.store, id);
    if (!other || other.id === k.id || other.status !== 'active' || other.consumer !== k.consumer) continue;
    if (other.startSlot < k.endSlot && k.startSlot < other.endSlot) {
      throw E.MARKET_CONTRACT_OVERLAP(`${k.consumer} already has supply contract ${other.id} for slots [${other.startSlot}, ${other.endSlot})`);
    }
  }
}

/** Exclusivity starts at acceptance: the consumer may have no open bid and no purchase in the contract's slots. */
function requireNoConflict(ctx: MarketContext, k: Contract): void {
  for (const id of openBy.list(ctx.store, [k.community, k.consumer])) {
    const o = getOrder(ctx.store, id);
    if (o && o.side === 'bid' && o.slot >= k.startSlot && o.slot < k.endSlot) throw E.MARKET_CONTRACT_CONFLICT(`${k.consumer} has open bid ${o.id} for slot ${o.slot}; cancel it first`);
  }
  for (const id of tradeBy.list(ctx.store, [k.community, k.consumer], { from: k.startSlot, to: k.endSlot })) {
    const t = getTrade(ctx.store, id);
    if (t && t.buyer === k.consumer && t.status !== 'void') throw E.MARKET_CONTRACT_CONFLICT(`${k.consumer} already bought in slot ${t.slot} (trade ${t.id})`);
  }
}

/** The consumer (the signer) locks every slot's largest payment and pays the deposit into escrow. */
function fund(ctx: MarketContext, config: MarketConfig, k: Contract): Contract {
  const payments = BigInt(k.perSlotMicro) * BigInt(slotsOf(k));
  const deposit = BigInt(k.deposit ?? '0');
  const free = ctx.keepers.payments.balance(k.consumer, config.asset);
  if (free < payments + deposit) throw E.MARKET_INSUFFICIENT_FUNDS(`${k.consumer} holds ${free} µ of ${config.asset} free; the contract locks ${payments} µ of payments and a deposit of ${deposit} µ`);
  if (payments > 0n) ctx.keepers.payments.lock(FUNDS, contractRef(k.id), k.consumer, config.asset, payments);
  if (deposit === 0n) return k;
  ctx.keepers.payments.openEscrow(FUNDS, depositRef(k.id), { payer: k.consumer, payee: k.prosumer, asset: config.asset, amount: deposit, memo: `deposit of supply contract ${k.id}` });
  return { ...k, depositState: 'held' };
}

export function proposeContract(ctx: MarketContext, msg: ContractProposeMsg): void {
  const config = requireMarket(ctx, msg.community);
  requireTrader(ctx, msg.community, ctx.sender);
  if (msg.counterparty === ctx.sender) throw E.MARKET_SELF_TRADE('a supply contract needs two different traders');
  if (!ctx.keepers.energy.isActiveTrader(msg.community, msg.counterparty)) throw E.MARKET_COUNTERPARTY_NOT_TRADER(`${msg.counterparty} is not a trader of community ${msg.community}`);
  const consumer = msg.role === 'consumer' ? ctx.sender : msg.counterparty;
  const prosumer = msg.role === 'prosumer' ? ctx.sender : msg.counterparty;
  if (msg.endSlot <= msg.startSlot) throw E.MARKET_CONTRACT_INVALID(`the end slot ${msg.endSlot} must come after the start slot ${msg.startSlot}`);
  if (msg.maxPowerW < 4) throw E.MARKET_CONTRACT_INVALID('the maximum power must be at least 4 W (1 Wh per slot)');
  if ((msg.deposit !== undefined && BigInt(msg.deposit) > 0n) !== (msg.mediator !== undefined)) throw E.MARKET_CONTRACT_INVALID('a deposit and a mediator go together');
  if (msg.mediator === consumer || msg.mediator === prosumer) throw E.MARKET_CONTRACT_INVALID('the mediator must not be a party');
  const now = currentSlot(ctx);
  if (msg.startSlot <= now) throw E.MARKET_CONTRACT_NOT_FUTURE(`slot ${msg.startSlot} has begun (current slot ${now})`);
  if (msg.startSlot > now + ctx.params.maxFutureSlots) throw E.MARKET_SLOT_UNKNOWN(`slot ${msg.startSlot} is beyond the horizon of ${ctx.params.maxFutureSlots} slots`);
  if (msg.endSlot - msg.startSlot > ctx.params.maxContractSlots) throw E.MARKET_CONTRACT_TOO_LONG(`${msg.endSlot - msg.startSlot} slots; at most ${ctx.params.maxContractSlots}`);
  const noticeSlots = msg.noticeSlots ?? DEFAULT_NOTICE_SLOTS;
  if (noticeSlots > ctx.params.maxNoticeSlots) throw E.MARKET_NOTICE_TOO_LONG(`${noticeSlots} slots of notice; at most ${ctx.params.maxNoticeSlots}`);
  if (msg.price > ctx.params.maxPrice) throw E.MARKET_PRICE_LIMIT(`${msg.price} µ/kWh is above maxPrice ${ctx.params.maxPrice}`);
  if (msg.mediator !== undefined && !ctx.keepers.registry.isActive(msg.mediator)) throw E.MARKET_MEDIATOR_NOT_ADMITTED(`${msg.mediator} is not an admitted account`);
  const capWh = floorDiv(msg.maxPowerW, 4);
  const id = `sc${nextNumber(ctx.store, 'contract')}`;
  const k: Contract = {
    id,
    community: msg.community,
    consumer,
    prosumer,
    proposer: ctx.sender,
    startSlot: msg.startSlot,
    endSlot: msg.endSlot,
    agreedEndSlot: msg.endSlot,
    price: msg.price,
    maxPowerW: msg.maxPowerW,
    capWh,
    noticeSlots,
    perSlotMicro: valueOf(capWh, msg.price).toString(),
    status: 'proposed',
    nextSlot: msg.startSlot,
    coveredWh: 0,
    paidMicro: '0',
    ...(msg.mediator !== undefined ? { deposit: msg.deposit!, mediator: msg.mediator } : {}),
    proposedAt: txRef(ctx),
  };
  requireNoOverlap(ctx, k);
  putContract(ctx.store, ctx.sender === consumer ? fund(ctx, config, k) : k);
  lapses.put(ctx.store, id, slotStart(k.startSlot), numberOf(id));
  contractBy.put(ctx.store, id, k.community, consumer, numberOf(id));
  contractBy.put(ctx.store, id, k.community, prosumer, numberOf(id));
  ctx.emit('market.contract_proposed', { id, community: k.community, consumer, prosumer, startSlot: k.startSlot, endSlot: k.endSlot, price: k.price, maxPowerW: k.maxPowerW });
}

export function acceptContract(ctx: MarketContext, msg: ContractIdMsg): void {
  const k = requireContract(ctx, msg.id);
  if (k.status !== 'proposed') throw E.MARKET_CONTRACT_CLOSED(`contract ${k.id} is ${k.status}`);
  const counterparty = k.proposer === k.consumer ? k.prosumer : k.consumer;
  if (ctx.sender !== counterparty) throw E.MARKET_NOT_COUNTERPARTY(`only ${counterparty} may accept contract ${k.id}`);
  const config = requireMarket(ctx, k.community);
  requireTrader(ctx, k.community, ctx.sender);
  if (!ctx.keepers.energy.isActiveTrader(k.community, k.proposer)) throw E.MARKET_COUNTERPARTY_NOT_TRADER(`${k.proposer} is no longer a trader of community ${k.community}`);
  const now = currentSlot(ctx);
  if (k.startSlot <= now) throw E.MARKET_CONTRACT_NOT_FUTURE(`contract ${k.id} was to start at slot ${k.startSlot}, which has begun (current slot ${now})`);
  requireNoOverlap(ctx, k);
  requireNoConflict(ctx, k);
  const funded = ctx.sender === k.consumer ? fund(ctx, config, k) : k;
  putContract(ctx.store, { ...funded, status: 'active', acceptedAt: txRef(ctx) });
  active.put(ctx.store, k.id, k.community, numberOf(k.id));
  if (ctx.stateVersion >= 3) activeBy.put(ctx.store, k.id, k.community, k.consumer, numberOf(k.id));
  ctx.emit('market.contract_accepted', { id: k.id, by: ctx.sender });
}

/** Gives back `amount` of the consumer's payment lock (nothing for 0). */
function releasePayments(ctx: MarketContext, k: Contract, amount: bigint): void {
  if (amount > 0n) ctx.keepers.payments.unlock(FUNDS, contractRef(k.id), amount);
}

/** The end of a contract: what remains locked goes back; the deposit waits for the dispute window. */
function finish(ctx: MarketContext, k: Contract): Contract {
  const lock = ctx.keepers.payments.lockOf(FUNDS, contractRef(k.id));
  if (lock) releasePayments(ctx, k, BigInt(lock.amount));
  active.delete(ctx.store, k.community, numberOf(k.id));
  if (ctx.stateVersion >= 3) activeBy.delete(ctx.store, k.community, k.consumer, numberOf(k.id));
  const done: Contract = { ...k, status: 'finished', closedAt: { height: ctx.height, time: ctx.time } };
  if (done.depositState === 'held') deposits.put(ctx.store, done.id, ctx.time + ctx.params.disputeWindowSec * 1000, numberOf(done.id));
  putContract(ctx.store, done);
  ctx.emit('market.contract_finished', { id: k.id, coveredWh: k.coveredWh, paid: k.paidMicro });
  return done;
}

/** A proposal that ends unaccepted (withdrawn, declined, lapsed): whatever the consumer funded goes back. */
function closeProposal(ctx: MarketContext, k: Contract, status: 'withdrawn' | 'declined' | 'lapsed'): void {
  const lock = ctx.keepers.payments.lockOf(FUNDS, contractRef(k.id));
  if (lock) releasePayments(ctx, k, BigInt(lock.amount));
  if (k.depositState === 'held') ctx.keepers.payments.refundEscrow(FUNDS, depositRef(k.id));
  putContract(ctx.store, { ...k, status, ...(k.depositState === 'held' ? { depositState: 'returned' as const } : {}), closedAt: { height: ctx.height, time: ctx.time } });
  ctx.emit('market.contract_closed', { id: k.id, status });
}

/** End of block: a proposal still unaccepted when its first slot begins lapses. */
export function lapseProposal(ctx: MarketContext, id: string): void {
  const k = getContract(ctx.store, id);
  if (k && k.status === 'proposed') closeProposal(ctx, k, 'lapsed');
}

export function endContract(ctx: MarketContext, msg: ContractIdMsg): void {
  const k = requireContract(ctx, msg.id);
  requireParty(ctx, k);
  if (k.status === 'proposed') return closeProposal(ctx, k, ctx.sender === k.proposer ? 'withdrawn' : 'declined');
  if (k.status !== 'active') throw E.MARKET_CONTRACT_CLOSED(`contract ${k.id} is ${k.status}`);
  if (k.endNotice) throw E.MARKET_CONTRACT_ENDING(`contract ${k.id} already ends at slot ${k.endSlot} (notice by ${k.endNotice.by})`);
  const endSlot = Math.min(k.endSlot, Math.max(k.startSlot, currentSlot(ctx) + 1 + k.noticeSlots));
  releasePayments(ctx, k, BigInt(k.perSlotMicro) * BigInt(k.endSlot - endSlot));
  const ended: Contract = { ...k, endSlot, endNotice: { by: ctx.sender, at: txRef(ctx) } };
  ctx.emit('market.contract_ending', { id: k.id, by: ctx.sender, endSlot });
  if (ended.nextSlot >= endSlot) finish(ctx, ended);
  else putContract(ctx.store, ended);
}

export function disputeContract(ctx: MarketContext, msg: ContractDisputeMsg): void {
  const k = requireContract(ctx, msg.id);
  requireParty(ctx, k);
  if (k.deposit === undefined) throw E.MARKET_NO_DEPOSIT(`contract ${k.id} requires no deposit`);
  if (k.status === 'proposed' || k.status === 'withdrawn' || k.status === 'declined' || k.status === 'lapsed') throw E.MARKET_CONTRACT_CLOSED(`contract ${k.id} is ${k.status}`);
  if (k.depositState === 'disputed') throw E.MARKET_ALREADY_DISPUTED(`the deposit of ${k.id} is already disputed by ${k.dispute?.by}`);
  if (k.depositState !== 'held') throw E.MARKET_DISPUTE_CLOSED(`the deposit of ${k.id} was already ${k.depositState}`);
  putContract(ctx.store, { ...k, depositState: 'disputed', dispute: { by: ctx.sender, reason: msg.reason, at: txRef(ctx) } });
  ctx.emit('market.contract_disputed', { id: k.id, by: ctx.sender });
}

export function resolveContract(ctx: MarketContext, msg: ContractResolveMsg): void {
  const k = requireContract(ctx, msg.id);
  if (k.mediator === undefined || ctx.sender !== k.mediator) throw E.MARKET_NOT_MEDIATOR(`only the mediator${k.mediator ? ` ${k.mediator}` : ''} of ${k.id} divides its deposit`);
  if (k.depositState === 'held') throw E.MARKET_NOT_DISPUTED(`the deposit of ${k.id} is not disputed`);
  if (k.depositState !== 'disputed') throw E.MARKET_DISPUTE_CLOSED(`the deposit of ${k.id} was already ${k.depositState}`);
  const toProsumer = BigInt(msg.toProsumer);
  const toConsumer = BigInt(msg.toConsumer);
  if (toProsumer + toConsumer !== BigInt(k.deposit!)) throw E.MARKET_SPLIT_MISMATCH(`${toProsumer} + ${toConsumer} ≠ the deposit of ${k.deposit}`);
  if (toProsumer > 0n) ctx.keepers.payments.releaseEscrow(FUNDS, depositRef(k.id), toProsumer);
  if (toConsumer > 0n) ctx.keepers.payments.refundEscrow(FUNDS, depositRef(k.id), toConsumer);
  putContract(ctx.store, { ...k, depositState: 'divided', resolution: { toProsumer: msg.toProsumer, toConsumer: msg.toConsumer, at: txRef(ctx) } });
  ctx.emit('market.contract_resolved', { id: k.id, toProsumer: msg.toProsumer, toConsumer: msg.toConsumer });
}

/** Returns a finished contract's deposit once its dispute window passed without a dispute (end of block). */
export function returnDeposit(ctx: MarketContext, id: string): void {
  const k = getContract(ctx.store, id);
  if (!k || k.depositState !== 'held') return;
  ctx.keepers.payments.refundEscrow(FUNDS, depositRef(k.id));
  putContract(ctx.store, { ...k, depositState: 'returned' });
}

/** The contracts running in a community at `slot` whose next slot to settle is `slot`, by id. */
export function contractsAt(ctx: MarketContext, community: string, slot: number): Contract[] {
  return active
    .list(ctx.store, [community])
    .map((id) => getContract(ctx.store, id)!)
    .filter((k) => k.nextSlot === slot && k.startSlot <= slot && slot < k.endSlot);
}

/** Imports of all meters linked to `trader` at `slot`, Wh. */
export function meteredImport(ctx: MarketContext, community: string, trader: string, slot: number): number {
  let wh = 0;
  for (const link of ctx.keepers.energy.metersOf(community, trader, slot)) for (const v of ctx.keepers.metering.series(link.meterId, slot, slot + 1)) wh += v.importWh;
  return wh;
}

/**
 * One slot of a running contract, after the slot's trades were delivered: covered = min(consumer's
 * metered import, prosumer's free energy at the slot (its positive free balances: its metered
 * production less what its trades delivered), capWh); the energy moves label set by label set
 * (label-key order), the consumer pays ⌊covered × price / 1000⌋ from its lock and gets the rest
 * of the slot's share back. A party no longer able to trade covers nothing.
 */
export function settleContractSlot(ctx: MarketContext, k: Contract, slot: number): void {
  const perSlot = BigInt(k.perSlotMicro);
  let record: ContractSlot;
  if (!canTrade(ctx, k.community, k.consumer) || !canTrade(ctx, k.community, k.prosumer)) {
    releasePayments(ctx, k, perSlot);
    record = { contract: k.id, slot, consumerImportWh: 0, prosumerAvailableWh: 0, coveredWh: 0, paidMicro: '0', note: 'a party is revoked or no longer a trader of the community' };
  } else {
    const need = meteredImport(ctx, k.community, k.consumer, slot);
    const sources = sourcesFor(ctx, k.community, k.prosumer, slot, []);
    const available = sources.reduce((s, x) => s + x.wh, 0);
    const covered = Math.min(need, available, k.capWh);
    deliverFrom(ctx, k.community, k.prosumer, slot, sources, covered, k.consumer, `supply contract ${k.id}`);
    const pay = minBig(valueOf(covered, k.price), perSlot);
    if (pay > 0n) ctx.keepers.payments.payFromLock(FUNDS, contractRef(k.id), k.prosumer, pay, `supply contract ${k.id} slot ${slot}`);
    releasePayments(ctx, k, perSlot - pay);
    record = { contract: k.id, slot, consumerImportWh: need, prosumerAvailableWh: available, coveredWh: covered, paidMicro: pay.toString() };
  }
  contractSlots.put(ctx.store, record, numberOf(k.id), slot);
  const next: Contract = { ...k, nextSlot: slot + 1, coveredWh: k.coveredWh + record.coveredWh, paidMicro: (BigInt(k.paidMicro) + BigInt(record.paidMicro)).toString() };
  ctx.emit('market.contract_slot', { id: k.id, slot, coveredWh: record.coveredWh, paid: record.paidMicro });
  if (next.nextSlot >= next.endSlot) finish(ctx, next);
  else putContract(ctx.store, next);
}

/** Migration to state version 3: every active contract under its consumer. */
export function migrateToActiveByConsumer(ctx: MarketContext): void {
  for (const id of active.list(ctx.store)) {
    const k = getContract(ctx.store, id)!;
    activeBy.put(ctx.store, k.id, k.community, k.consumer, numberOf(k.id));
  }
}
