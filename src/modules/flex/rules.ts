import { timedTxRef } from '../../app/tx-ref.js';
import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { utf8 } from '../../util/bytes.js';
import { LedgerError } from '../../util/errors.js';
import { floorDiv } from '../../util/int.js';
import { HOUR_MS, SLOT_MS } from '../../util/slots.js';
import { deviationPublicInputs } from '../../zk/circuits.js';
import { hashToField, parseCanonicalDecimal, SCALAR_FIELD_MODULUS } from '../../zk/field.js';
import { CircuitKeys, keyRecord } from '../../zk/key-registry.js';
import { verifyGroth16, type PreparedVerifyingKey } from '../../zk/verify.js';
import { claimFundsOwner } from '../payments/keeper.js';
import { E } from './errors.js';
import type { CommitMsg, EnrolMsg, EventMsg, ProgramMsg, ProveMsg, RegisterKeyMsg, WithdrawMsg } from './messages.js';
import {
  addDeadline,
  addExpiry,
  dropDeadline,
  dropExpiry,
  dueDeadlines,
  dueExpiries as dueExpiryKeys,
  getBlockProofs,
  getEvent,
  getInterval,
  getKey,
  getProgram,
  indexMeterEvent,
  indexParty,
  markPrivate,
  nextNumber,
  privateRef,
  putBlockProofs,
  putEvent,
  putInterval,
  putKey,
  putProgram,
  type FlexEvent,
  type IntervalRecord,
} from './state.js';

/** Rules of the flex module: verifying keys, programs, events, enrolment, commitments, proofs, deadlines. */

export const REQUIRES = ['registry', 'metering', 'energy', 'payments'] as const;

export interface FlexParams {
  /** An interval's commitment and proof must arrive before its end + proofWindowMs; after it, the interval is missed. */
  proofWindowMs: number;
  /**
   * How long after an event's start it can still be created and enrolled. 0 on a real chain: a prosumer
   * who could enrol after the start would know part of its measured values when accepting. Test
   * chains set it to run past events in seconds.
   */
  enrolGraceMs: number;
  /** Most intervals per event (96 = a day of 15-minute intervals). */
  maxIntervals: number;
  /**
   * Most proof verifications per block. The ledger has no per-message cost accounting (the proposer
   * bounds blocks by count, bytes and measured time per transaction), and one verification costs
   * 15–25 ms of a core, so this cap keeps a block's verification work below maxProofsPerBlock × 25 ms.
   * A proof beyond it is rejected with FLEX_BLOCK_PROOF_CAP (the edge sends it again).
   */
  maxProofsPerBlock: number;
  /** Most deadline and expiry settlements per end of block (the rest follow in the next blocks). */
  maxSettlementsPerBlock: number;
}


export const DEFAULT_PARAMS: FlexParams = {
  proofWindowMs: 24 * HOUR_MS,
  enrolGraceMs: 0,
  maxIntervals: 96,
  maxProofsPerBlock: 16,
  maxSettlementsPerBlock: 1000,
};

export type FlexContext = ModuleContext<KeepersOf<typeof REQUIRES>, FlexParams>;

/** The payments capability of this module: escrows "flex/<event id>". */
const funds = claimFundsOwner('flex');

/** Largest amount the payments module holds (10^24 − 1 micro-units). */
const MAX_AMOUNT = 10n ** 24n - 1n;
/** The deviation circuit's public inputs: commitment, requested, deviation, eventId, intervalIndex. */
const DEVIATION_PUBLIC_INPUTS = 5;
/** Domain of the event id bound into proofs (chain id and event id, so a proof is valid on one chain only). */
export const FLEX_EVENT_DOMAIN = 'GRIDLEDGER/ZK/EVENT/V1';

/** The circuit's eventId: SHA-256(domain ‖ 0 ‖ "<chain id>/<event id>") >> 3. The edge computes the same. */
export function eventField(chainId: string, eventId: string): bigint {
  return hashToField(FLEX_EVENT_DOMAIN, utf8(`${chainId}/${eventId}`));
}

export const txRef = timedTxRef;

// ── interval arithmetic (integers only) ──

export const intervalMs = (e: Pick<FlexEvent, 'intervalMinutes'>): number => e.intervalMinutes * 60_000;
export const intervalStart = (e: Pick<FlexEvent, 'start' | 'intervalMinutes'>, i: number): number => e.start + i * intervalMs(e);
export const intervalEnd = (e: Pick<FlexEvent, 'start' | 'intervalMinutes'>, i: number): number => intervalStart(e, i + 1);
export const deadlineOf = (e: Pick<FlexEvent, 'start' | 'intervalMinutes'>, i: number, params: Pick<FlexParams, 'proofWindowMs'>): number => intervalEnd(e, i) + params.proofWindowMs;
/** Metering slots (15 minutes) of interval i: [first, first + count). */
export function slotsOf(e: Pick<FlexEvent, 'start' | 'intervalMinutes'>, i: number): { first: number; count: number } {
  const count = e.intervalMinutes === 60 ? 4 : 1;
  return { first: floorDiv(intervalStart(e, i), SLOT_MS), count };
}

// ── verifying keys ──

const deviationKeys = new CircuitKeys({ circuit: 'deviation', publicInputs: DEVIATION_PUBLIC_INPUTS, invalid: E.FLEX_KEY_INVALID });

function preparedKey(ctx: FlexContext, id: string): PreparedVerifyingKey {
  const registered = getKey(ctx.store, id);
  if (!registered) throw E.FLEX_KEY_NOT_FOUND(`no verifying key ${id}`);
  return deviationKeys.preparedOf(registered);
}

/** Keys are kept by id, each registered once (programs name the key they use). */
export function registerKey(ctx: FlexContext, msg: RegisterKeyMsg): void {
  if (!ctx.keepers.registry.hasAnyRole(ctx.sender, ['operator'])) throw E.FLEX_NOT_OPERATOR('only a consortium operator account may register verifying keys');
  const vk = deviationKeys.admit(msg.key);
  if (getKey(ctx.store, vk.id)) throw E.FLEX_KEY_EXISTS(`verifying key ${vk.id} is already registered`);
  putKey(ctx.store, keyRecord(vk, { circuit: msg.circuit, registeredBy: ctx.sender, at: txRef(ctx) }));
  ctx.emit('flex.key_registered', { id: vk.id, circuit: msg.circuit });
}

// ── programs and events ──

function requireAggregator(ctx: FlexContext): void {
  if (!ctx.keepers.registry.isActive(ctx.sender, 'aggregator')) throw E.FLEX_NOT_AGGREGATOR('only an account admitted with role aggregator may do this');
}

export function createProgram(ctx: FlexContext, msg: ProgramMsg): void {
  requireAggregator(ctx);
  if (!ctx.keepers.payments.asset(msg.asset)) throw E.FLEX_ASSET_NOT_FOUND(`no asset ${msg.asset}`);
  if (!getKey(ctx.store, msg.verifyingKey)) throw E.FLEX_KEY_NOT_FOUND(`no verifying key ${msg.verifyingKey} is registered`);
  const id = `p${nextNumber(ctx.store, 'program')}`;
  putProgram(ctx.store, { id, ...msg, aggregator: ctx.sender, createdAt: txRef(ctx) });
  ctx.emit('flex.program_created', { id, aggregator: ctx.sender, name: msg.name, verifyingKey: msg.verifyingKey });
}

export function createEvent(ctx: FlexContext, msg: EventMsg): void {
  requireAggregator(ctx);
  const program = getProgram(ctx.store, msg.program);
  if (!program) throw E.FLEX_PROGRAM_NOT_FOUND(`no program ${msg.program}`);
  if (program.aggregator !== ctx.sender) throw E.FLEX_NOT_PROGRAM_OWNER(`program ${program.id} belongs to ${program.aggregator}`);
  if (msg.prosumer === ctx.sender || !ctx.keepers.registry.isActive(msg.prosumer, 'prosumer')) {
    throw E.FLEX_PROSUMER_INVALID(`${msg.prosumer} is not an admitted prosumer other than the aggregator`);
  }
  const lengthMs = program.intervalMinutes * 60_000;
  if (msg.start % lengthMs !== 0) throw E.FLEX_START_NOT_ALIGNED(`start ${msg.start} is not a multiple of ${lengthMs} ms`);
  const enrolUntil = msg.start + ctx.params.enrolGraceMs;
  if (enrolUntil <= ctx.time) throw E.FLEX_START_PASSED(`the event would start at ${msg.start}, enrolment would close at ${enrolUntil}, block time is ${ctx.time}`);
  const n = msg.requestedWh.length;
  if (n > ctx.params.maxIntervals) throw E.FLEX_TOO_MANY_INTERVALS(`${n} intervals; at most ${ctx.params.maxIntervals}`);
  const deposit = BigInt(program.rewardPerInterval) * BigInt(n);
  if (deposit > MAX_AMOUNT) throw E.FLEX_REWARD_TOO_LARGE(`${program.rewardPerInterval} × ${n} is above ${MAX_AMOUNT}`);

  const id = `ev${nextNumber(ctx.store, 'event')}`;
  const escrow = ctx.keepers.payments.openEscrow(funds, id, { payer: ctx.sender, payee: msg.prosumer, asset: program.asset, amount: deposit, memo: `flex event ${id}` });
  const event: FlexEvent = {
    id,
    program: program.id,
    aggregator: ctx.sender,
    prosumer: msg.prosumer,
    payloadType: msg.payloadType,
    start: msg.start,
    intervalMinutes: program.intervalMinutes,
    intervals: n,
    asset: program.asset,
    rewardPerInterval: program.rewardPerInterval,
    penaltyPerWh: program.penaltyPerWh,
    verifyingKey: program.verifyingKey,
    escrow: escrow.id,
    deposit: deposit.toString(),
    status: 'offered',
    ...(msg.memo ? { memo: msg.memo } : {}),
    settled: 0,
    paidToAggregator: '0',
    paidToProsumer: '0',
    createdAt: txRef(ctx),
  };
  putEvent(ctx.store, event);
  msg.requestedWh.forEach((requestedWh, index) => putInterval(ctx.store, id, { index, requestedWh, status: 'pending' }));
  indexParty(ctx.store, ctx.sender, id);
  indexParty(ctx.store, msg.prosumer, id);
  addExpiry(ctx.store, enrolUntil, id);
  ctx.emit('flex.event_created', { id, program: program.id, aggregator: ctx.sender, prosumer: msg.prosumer, start: msg.start, intervals: n, deposit: event.deposit, escrow: escrow.id });
}

function requireEvent(ctx: FlexContext, id: string): FlexEvent {
  const e = getEvent(ctx.store, id);
  if (!e) throw E.FLEX_EVENT_NOT_FOUND(`no event ${id}`);
  return e;
}

export function enrol(ctx: FlexContext, msg: EnrolMsg): void {
  const e = requireEvent(ctx, msg.event);
  if (ctx.sender !== e.prosumer) throw E.FLEX_NOT_PROSUMER(`only the prosumer ${e.prosumer} of ${e.id} may enrol`);
  if (e.status !== 'offered') throw E.FLEX_EVENT_NOT_OFFERED(`event ${e.id} is ${e.status}`);
  if (ctx.time >= e.start + ctx.params.enrolGraceMs) throw E.FLEX_ENROL_TOO_LATE(`enrolment in ${e.id} closed at ${e.start + ctx.params.enrolGraceMs}`);
  if (!ctx.keepers.metering.meter(msg.meterId)) throw E.FLEX_METER_NOT_FOUND(`meter ${msg.meterId} is not registered`);
  const link = ctx.keepers.energy.linkAt(msg.meterId, slotsOf(e, 0).first);
  if (link && link.trader !== null && link.trader !== e.prosumer) throw E.FLEX_METER_NOT_PROSUMERS(`meter ${msg.meterId} is linked to ${link.trader} in community ${link.community}`);
  putEvent(ctx.store, { ...e, status: 'active', meterId: msg.meterId, enrolledAt: txRef(ctx) });
  dropExpiry(ctx.store, e.start + ctx.params.enrolGraceMs, e.id);
  indexMeterEvent(ctx.store, msg.meterId, e.id);
  for (let i = 0; i < e.intervals; i++) addDeadline(ctx.store, deadlineOf(e, i, ctx.params), e.id, i);
  ctx.emit('flex.enrolled', { id: e.id, prosumer: e.prosumer, meterId: msg.meterId });
}

/** Refunds everything still in the escrow to the aggregator and closes an offered event. */
function closeOffered(ctx: FlexContext, e: FlexEvent, status: 'withdrawn' | 'expired'): void {
  const back = ctx.keepers.payments.refundEscrow(funds, e.id);
  putEvent(ctx.store, { ...e, status, paidToAggregator: back.toString(), closedAt: txRef(ctx) });
  ctx.emit(`flex.${status}`, { id: e.id, refunded: back.toString() });
}

export function withdraw(ctx: FlexContext, msg: WithdrawMsg): void {
  const e = requireEvent(ctx, msg.event);
  if (ctx.sender !== e.aggregator) throw E.FLEX_NOT_EVENT_AGGREGATOR(`only the aggregator ${e.aggregator} of ${e.id} may withdraw it`);
  if (e.status !== 'offered') throw E.FLEX_EVENT_NOT_OFFERED(`event ${e.id} is ${e.status}: it can be withdrawn only before the prosumer enrols`);
  dropExpiry(ctx.store, e.start + ctx.params.enrolGraceMs, e.id);
  closeOffered(ctx, e, 'withdrawn');
}

// ── commitments ──

const SETTLED: ReadonlySet<IntervalRecord['status']> = new Set(['proved', 'missed', 'invalid-proof', 'forfeited', 'withdrawn']);

function requireActive(e: FlexEvent): void {
  if (e.status !== 'active') throw E.FLEX_EVENT_NOT_ACTIVE(`event ${e.id} is ${e.status}`);
}

function requireInterval(ctx: FlexContext, e: FlexEvent, index: number): IntervalRecord {
  const rec = index < e.intervals ? getInterval(ctx.store, e.id, index) : undefined;
  if (!rec) throw E.FLEX_INTERVAL_INVALID(`event ${e.id} has intervals 0…${e.intervals - 1}, not ${index}`);
  if (SETTLED.has(rec.status)) throw E.FLEX_INTERVAL_SETTLED(`interval ${index} of ${e.id} is ${rec.status}`);
  return rec;
}

function requireBeforeDeadline(ctx: FlexContext, e: FlexEvent, index: number): void {
  const deadline = deadlineOf(e, index, ctx.params);
  if (ctx.time >= deadline) throw E.FLEX_DEADLINE_PASSED(`interval ${index} of ${e.id} had its deadline at ${deadline}; block time is ${ctx.time}`);
}

export function commit(ctx: FlexContext, msg: CommitMsg): void {
  const e = requireEvent(ctx, msg.event);
  requireActive(e);
  const meter = ctx.keepers.metering.meter(e.meterId!);
  if (!meter || ctx.sender !== meter.address) throw E.FLEX_NOT_EVENT_METER(`commitments of ${e.id} must be signed by meter ${e.meterId}'s key`);
  const rec = requireInterval(ctx, e, msg.interval);
  if (rec.commitment !== undefined) throw E.FLEX_COMMITMENT_EXISTS(`interval ${msg.interval} of ${e.id} already has commitment ${rec.commitment}`);
  const end = intervalEnd(e, msg.interval);
  if (end > ctx.time) throw E.FLEX_INTERVAL_NOT_ENDED(`interval ${msg.interval} of ${e.id} ends at ${end}; block time is ${ctx.time}`);
  requireBeforeDeadline(ctx, e, msg.interval);
  if (parseCanonicalDecimal(msg.commitment, SCALAR_FIELD_MODULUS) === undefined) throw E.FLEX_COMMITMENT_INVALID('the commitment is not below the scalar field modulus');
  const { first, count } = slotsOf(e, msg.interval);
  let previous = first - 1;
  for (const f of msg.fingerprints) {
    if (f.slot <= previous || f.slot >= first + count) throw E.FLEX_FINGERPRINT_SLOT_INVALID(`fingerprint slots must be increasing within ${first}…${first + count - 1}`);
    previous = f.slot;
  }
  if (ctx.keepers.metering.series(meter.meterId, first, first + count).length > 0) {
    throw E.FLEX_READING_PUBLIC(`meter ${meter.meterId} already published a reading in slots ${first}…${first + count - 1}`);
  }
  for (let s = first; s < first + count; s++) if (privateRef(ctx.store, meter.meterId, s) === undefined) markPrivate(ctx.store, meter.meterId, s, `${e.id}/${msg.interval}`);
  putInterval(ctx.store, e.id, { ...rec, status: 'committed', commitment: msg.commitment, fingerprints: msg.fingerprints, committedAt: txRef(ctx) });
  ctx.emit('flex.committed', { event: e.id, interval: msg.interval, meterId: meter.meterId, commitment: msg.commitment });
}

/** `metering.readingAccepted` subscriber: a slot the meter committed privately gets no public reading. */
export function refusePrivateReading(ctx: FlexContext, reading: { meterId: string; slot: number }): void {
  const ref = privateRef(ctx.store, reading.meterId, reading.slot);
  if (ref !== undefined) throw E.FLEX_SLOT_PRIVATE(`meter ${reading.meterId} committed slot ${reading.slot} privately (event/interval ${ref})`);
}

// ── proofs and settlement ──

function countProof(ctx: FlexContext): void {
  const current = getBlockProofs(ctx.store);
  const count = current?.height === ctx.height ? current.count : 0;
  if (count >= ctx.params.maxProofsPerBlock) throw E.FLEX_BLOCK_PROOF_CAP(`block ${ctx.height} already verified ${count} proofs (maxProofsPerBlock ${ctx.params.maxProofsPerBlock})`);
  putBlockProofs(ctx.store, { height: ctx.height, count: count + 1 });
}

/** Verifies a proof against public inputs built from ledger state; a malformed proof rejects the message. */
function verifyDeviation(ctx: FlexContext, e: FlexEvent, rec: IntervalRecord, deviation: number, proof: unknown): boolean {
  const vk = preparedKey(ctx, e.verifyingKey);
  const inputs = deviationPublicInputs({
    commitment: BigInt(rec.commitment!),
    requested: BigInt(rec.requestedWh),
    deviation: BigInt(deviation),
    eventId: eventField(ctx.chainId, e.id),
    intervalIndex: BigInt(rec.index),
  });
  try {
    return verifyGroth16(vk, proof, inputs);
  } catch (err) {
    if (err instanceof LedgerError && err.code === 'ZK_PROOF_MALFORMED') throw E.FLEX_PROOF_MALFORMED(err.message);
    throw err;
  }
}

const remainingOf = (e: FlexEvent): bigint => BigInt(e.deposit) - BigInt(e.paidToAggregator) - BigInt(e.paidToProsumer);

export function penaltyOf(e: Pick<FlexEvent, 'penaltyPerWh' | 'rewardPerInterval'>, deviationWh: number): bigint {
  const penalty = BigInt(deviationWh) * BigInt(e.penaltyPerWh);
  const share = BigInt(e.rewardPerInterval);
  return penalty < share ? penalty : share;
}

function settledRef(ctx: FlexContext) {
  return { ...txRef(ctx), msgIndex: ctx.msgIndex };
}

/** Pays `amount` of the escrow back to the aggregator (nothing for 0). */
function toAggregator(ctx: FlexContext, e: FlexEvent, amount: bigint): FlexEvent {
  if (amount > 0n) ctx.keepers.payments.refundEscrow(funds, e.id, amount);
  return { ...e, paidToAggregator: (BigInt(e.paidToAggregator) + amount).toString() };
}

/** Once every interval is settled: the remainder goes to the prosumer and the event completes. */
function finishIfDone(ctx: FlexContext, e: FlexEvent): FlexEvent {
  if (e.settled < e.intervals) return e;
  const remainder = remainingOf(e);
  if (remainder > 0n) ctx.keepers.payments.releaseEscrow(funds, e.id, remainder);
  const done: FlexEvent = { ...e, status: 'completed', paidToProsumer: (BigInt(e.paidToProsumer) + remainder).toString(), closedAt: txRef(ctx) };
  ctx.emit('flex.completed', { id: e.id, toProsumer: done.paidToProsumer, toAggregator: done.paidToAggregator });
  return done;
}

export function prove(ctx: FlexContext, msg: ProveMsg): void {
  const e = requireEvent(ctx, msg.event);
  requireActive(e);
  const meter = ctx.keepers.metering.meter(e.meterId!);
  if (ctx.sender !== e.prosumer && ctx.sender !== meter?.address) throw E.FLEX_NOT_PROVER(`proofs of ${e.id} come from ${e.prosumer} or meter ${e.meterId}`);
  const rec = requireInterval(ctx, e, msg.interval);
  if (rec.commitment === undefined) throw E.FLEX_NO_COMMITMENT(`interval ${msg.interval} of ${e.id} has no commitment yet`);
  requireBeforeDeadline(ctx, e, msg.interval);
  countProof(ctx);
  const valid = verifyDeviation(ctx, e, rec, msg.deviation, msg.proof);
  dropDeadline(ctx.store, deadlineOf(e, rec.index, ctx.params), e.id, rec.index);
  if (valid) settleProved(ctx, e, rec, msg.deviation);
  else forfeit(ctx, e, rec, msg.deviation);
}

function settleProved(ctx: FlexContext, e: FlexEvent, rec: IntervalRecord, deviationWh: number): void {
  const penalty = penaltyOf(e, deviationWh);
  putInterval(ctx.store, e.id, { ...rec, status: 'proved', deviationWh, toAggregator: penalty.toString(), settledAt: settledRef(ctx) });
  const paid = toAggregator(ctx, e, penalty);
  ctx.emit('flex.proved', { event: e.id, interval: rec.index, deviationWh, penalty: penalty.toString() });
  putEvent(ctx.store, finishIfDone(ctx, { ...paid, settled: paid.settled + 1 }));
}

/**
 * An invalid proof (well-formed, but the pairing check fails): the seed's rule, the whole remaining
 * deposit goes to the aggregator and every unsettled interval closes with it. A committed outcome
 * with its own event, distinct from a malformed message (rejected).
 */
function forfeit(ctx: FlexContext, e: FlexEvent, rec: IntervalRecord, claimedWh: number): void {
  const remaining = remainingOf(e);
  putInterval(ctx.store, e.id, { ...rec, status: 'invalid-proof', deviationWh: claimedWh, toAggregator: remaining.toString(), settledAt: settledRef(ctx) });
  for (let i = 0; i < e.intervals; i++) {
    if (i === rec.index) continue;
    const other = getInterval(ctx.store, e.id, i)!;
    if (SETTLED.has(other.status)) continue;
    dropDeadline(ctx.store, deadlineOf(e, i, ctx.params), e.id, i);
    putInterval(ctx.store, e.id, { ...other, status: 'forfeited', settledAt: settledRef(ctx) });
  }
  const paid = toAggregator(ctx, e, remaining);
  putEvent(ctx.store, { ...paid, status: 'forfeited', settled: e.intervals, closedAt: txRef(ctx) });
  ctx.emit('flex.proof_invalid', { event: e.id, interval: rec.index, claimedDeviationWh: claimedWh, forfeited: remaining.toString() });
}

/** End of block: intervals past their deadline without a proof return their share; offered events past enrolment expire. */
export function settleDue(ctx: FlexContext): void {
  const budget = ctx.params.maxSettlementsPerBlock;
  const expiries = dueExpiries(ctx, budget);
  for (const [time, id] of expiries) {
    dropExpiry(ctx.store, time, id);
    const e = getEvent(ctx.store, id);
    if (e?.status === 'offered') closeOffered(ctx, e, 'expired');
  }
  for (const [time, id, index] of dueIntervals(ctx, budget - expiries.length)) {
    dropDeadline(ctx.store, time, id, index);
    const e = getEvent(ctx.store, id);
    const rec = getInterval(ctx.store, id, index);
    if (e?.status !== 'active' || !rec || SETTLED.has(rec.status)) continue;
    const share = BigInt(e.rewardPerInterval);
    putInterval(ctx.store, id, { ...rec, status: 'missed', toAggregator: share.toString(), settledAt: { height: ctx.height, time: ctx.time, txHash: '', msgIndex: 0 } });
    const paid = toAggregator(ctx, e, share);
    ctx.emit('flex.missed', { event: id, interval: index, returned: share.toString() });
    putEvent(ctx.store, finishIfDone(ctx, { ...paid, settled: paid.settled + 1 }));
  }
}

function dueExpiries(ctx: FlexContext, limit: number): Array<[number, string]> {
  return limit > 0 ? dueExpiryKeys(ctx.store, ctx.time, limit) : [];
}

function dueIntervals(ctx: FlexContext, limit: number): Array<[number, string, number]> {
  return limit > 0 ? dueDeadlines(ctx.store, ctx.time, limit) : [];
}
