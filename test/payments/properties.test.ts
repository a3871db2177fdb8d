import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Msg } from '../../src/codec/tx.js';
import type { TxResult } from '../../src/codec/block.js';
import { payments } from '../../src/modules/payments/index.js';
import type { Channel, Escrow, Redemption } from '../../src/modules/payments/state.js';
import type { TestAccount, TestChain } from '../helpers/chain.js';
import { alice, bob, carol, checkConservation, dave, dso, issuer, issuer2, m, ok, payChain, revokee, snapshot, voucher } from './helpers.js';

/**
 * Random sequences of every payments operation (valid and invalid), checked after every step:
 *  - every asset is conserved exactly: supply = Σ free balances + pending redemptions + locks +
 *    escrow remainders + open channel deposits, each aggregate equals its records, and the supply
 *    equals the model's accepted mints − completed redemptions;
 *  - no balance, lock or escrow remainder is ever negative;
 *  - an escrow pays out once (user escrows) and never after it closed; a closed escrow or channel
 *    never changes again;
 *  - a channel's payout + refund = its deposit;
 *  - a rejected transaction changes nothing but the sender's nonce.
 */

const PEOPLE = [alice, bob, carol, dave, dso, revokee];

const ASSETS = [
  { id: 'NOK@microgrid', issuer },
  { id: 'EUR', issuer: issuer2 },
];

/** Senders (the revoked account rarely); recipients may be anyone. */
const who = fc.oneof({ weight: 12, arbitrary: fc.integer({ min: 0, max: PEOPLE.length - 2 }) }, { weight: 1, arbitrary: fc.constant(PEOPLE.length - 1) });
const assetIdx = fc.integer({ min: 0, max: ASSETS.length - 1 });
const nth = fc.integer({ min: 0, max: 7 });
/** Amounts: mostly a share (‰) of the sender's free balance, sometimes absolute (up to far beyond 2^53), sometimes zero. */
type Amt = { rel: number } | { abs: bigint };
const amount: fc.Arbitrary<Amt> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ rel: fc.integer({ min: 1, max: 1000 }) }) },
  { weight: 2, arbitrary: fc.record({ abs: fc.bigInt(1n, 10n ** 20n) }) },
  { weight: 1, arbitrary: fc.record({ abs: fc.constant(0n) }) },
);
/** Mints: small to huge. */
const mintAmount: fc.Arbitrary<Amt> = fc.oneof({ weight: 3, arbitrary: fc.record({ abs: fc.bigInt(1n, 10n ** 9n) }) }, { weight: 1, arbitrary: fc.record({ abs: fc.bigInt(1n, 10n ** 21n) }) }, { weight: 1, arbitrary: fc.record({ abs: fc.constant(0n) }) });
const permille = fc.integer({ min: 0, max: 1200 });

type Op =
  | { k: 'mint'; to: number; asset: number; amount: Amt; ref: number }
  | { k: 'transfer'; from: number; to: number; asset: number; amount: Amt }
  | { k: 'redeem'; from: number; asset: number; amount: Amt }
  | { k: 'decide'; n: number; complete: boolean; ref: number }
  | { k: 'escrow'; payer: number; payee: number; mediator: number; asset: number; amount: Amt; threshold: number; deadline: number }
  | { k: 'approve'; who: number; n: number; release: boolean }
  | { k: 'dispute'; who: number; n: number }
  | { k: 'propose'; n: number; payee: number; byMediator: boolean }
  | { k: 'countersign'; n: number; payer: boolean; exact: boolean }
  | { k: 'rejectSplit'; n: number; payer: boolean }
  | { k: 'replace'; n: number; payer: boolean; mediator: number }
  | { k: 'refund'; who: number; n: number }
  | { k: 'channel'; buyer: number; seller: number; asset: number; deposit: Amt; delay: number }
  | { k: 'close'; n: number; pay: number; bySeller: boolean }
  | { k: 'reclaim'; n: number }
  | { k: 'lock'; who: number; asset: number; amount: Amt; ref: number }
  | { k: 'unlock'; ref: number; part: number }
  | { k: 'payLock'; ref: number; to: number; part: number }
  | { k: 'mEscrow'; payer: number; payee: number; asset: number; amount: Amt; ref: number }
  | { k: 'mPay'; ref: number; part: number; release: boolean }
  | { k: 'wait'; ms: number };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('mint' as const), to: who, asset: assetIdx, amount: mintAmount, ref: fc.integer({ min: 0, max: 12 }) }) },
  { weight: 4, arbitrary: fc.record({ k: fc.constant('transfer' as const), from: who, to: who, asset: assetIdx, amount }) },
  fc.record({ k: fc.constant('redeem' as const), from: who, asset: assetIdx, amount }),
  fc.record({ k: fc.constant('decide' as const), n: nth, complete: fc.boolean(), ref: fc.integer({ min: 0, max: 4 }) }),
  {
    weight: 4,
    arbitrary: fc.record({
      k: fc.constant('escrow' as const),
      payer: who,
      payee: who,
      // mostly the grid operator as mediator, sometimes none or anyone
      mediator: fc.oneof({ weight: 4, arbitrary: fc.constant(4) }, { weight: 1, arbitrary: fc.integer({ min: -1, max: PEOPLE.length - 1 }) }),
      asset: assetIdx,
      amount,
      threshold: fc.oneof({ weight: 4, arbitrary: fc.constant(2) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }),
      // mostly the default deadline (7 days), sometimes a few blocks
      deadline: fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 12 }) }),
    }),
  },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('approve' as const), who, n: nth, release: fc.boolean() }) },
  { weight: 3, arbitrary: fc.record({ k: fc.constant('dispute' as const), who, n: nth }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('propose' as const), n: nth, payee: permille, byMediator: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('countersign' as const), n: nth, payer: fc.boolean(), exact: fc.oneof({ weight: 4, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('rejectSplit' as const), n: nth, payer: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('replace' as const), n: nth, payer: fc.boolean(), mediator: fc.oneof({ weight: 3, arbitrary: fc.constantFrom(2, 3) }, { weight: 1, arbitrary: who }) }) },
  fc.record({ k: fc.constant('refund' as const), who, n: nth }),
  { weight: 2, arbitrary: fc.record({ k: fc.constant('channel' as const), buyer: who, seller: who, asset: assetIdx, deposit: amount, delay: fc.integer({ min: 500, max: 20_000 }) }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('close' as const), n: nth, pay: permille, bySeller: fc.boolean() }) },
  fc.record({ k: fc.constant('reclaim' as const), n: nth }),
  fc.record({ k: fc.constant('lock' as const), who, asset: assetIdx, amount, ref: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ k: fc.constant('unlock' as const), ref: fc.integer({ min: 0, max: 1 }), part: permille }),
  fc.record({ k: fc.constant('payLock' as const), ref: fc.integer({ min: 0, max: 1 }), to: who, part: permille }),
  fc.record({ k: fc.constant('mEscrow' as const), payer: who, payee: who, asset: assetIdx, amount, ref: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ k: fc.constant('mPay' as const), ref: fc.integer({ min: 0, max: 1 }), part: permille, release: fc.boolean() }),
  fc.record({ k: fc.constant('wait' as const), ms: fc.integer({ min: 500, max: 5000 }) }),
);

const SEED = 50_000_000n;
const share = (total: bigint, pm: number) => (total * BigInt(pm)) / 1000n;
const pick = <T>(list: T[], n: number): T | undefined => (list.length === 0 ? undefined : list[n % list.length]);
const byAddress = (address: string) => PEOPLE.find((x) => x.address === address)!;
/** A party of the escrow (index 4: an outsider to it, when there is one). */
function partyOf(e: Escrow, i: number): TestAccount {
  if (i === 4) return PEOPLE.find((x) => !e.parties.includes(x.address) && x !== revokee) ?? byAddress(e.payer);
  return byAddress(e.parties[i % e.parties.length]!);
}

interface Model {
  supply: Map<string, bigint>;
  redemptions: string[];
  escrows: string[];
  channels: string[];
  /** Final state of every closed escrow and channel, as first seen. */
  closed: Map<string, string>;
  /** Payout events per user escrow. */
  payouts: Map<string, number>;
}

/** Turns an operation into (sender, messages) against the current state; undefined when it has nothing to act on. */
function build(chain: TestChain, op: Op): { from: TestAccount; msgs: Msg[] } | undefined {
  const p = (i: number) => PEOPLE[i]!;
  const asset = (i: number) => ASSETS[i]!.id;
  /** A disputed open escrow when there is one (splits, countersignatures, rejections, replacements). */
  const disputed = (n: number) => {
    const list = chain.store.scan<Escrow>('payments/escrow/e').map(([, e]) => e).filter((e) => e.status === 'open' && e.dispute);
    return pick(list, n) ?? esc(n);
  };
  const esc = (n: number) => {
    const all = chain.store.scan<Escrow>('payments/escrow/e').map(([, e]) => e);
    const open = all.filter((e) => e.status === 'open');
    // mostly an open escrow; now and then any (closed ones must refuse everything)
    return n === 7 ? pick(all, n) : pick(open.length > 0 ? open : all, n);
  };
  const lockRef = (r: number) => `bid/${r}`;
  const amt = (a: Amt, holder: TestAccount, assetI: number): bigint => ('abs' in a ? a.abs : (() => {
    const free = BigInt(chain.store.get<{ a: string }>(`payments/bal/${holder.address}/${ASSETS[assetI]!.id}`)?.a ?? '0');
    const v = share(free, a.rel);
    return v > 0n ? v : 1n;
  })());
  switch (op.k) {
    case 'mint':
      return { from: ASSETS[op.asset]!.issuer, msgs: [m.mint(p(op.to), amt(op.amount, p(op.to), op.asset), `DEP-${op.ref}`, asset(op.asset))] };
    case 'transfer':
      return { from: p(op.from), msgs: [m.transfer(p(op.to), amt(op.amount, p(op.from), op.asset), undefined, asset(op.asset))] };
    case 'redeem':
      return { from: p(op.from), msgs: [m.redeem(amt(op.amount, p(op.from), op.asset), asset(op.asset))] };
    case 'decide': {
      const r = pick(chain.store.scan<Redemption>('payments/redeem/').map(([, x]) => x), op.n);
      if (!r) return undefined;
      const from = ASSETS.find((a) => a.id === r.asset)!.issuer;
      return { from, msgs: [op.complete ? m.complete(r.id, `PAY-${op.ref}`) : m.reject(r.id)] };
    }
    case 'escrow':
      return {
        from: p(op.payer),
        msgs: [
          m.escrowOpen({
            asset: asset(op.asset),
            amount: String(amt(op.amount, p(op.payer), op.asset)),
            payee: p(op.payee).address,
            ...(op.mediator >= 0 ? { mediator: p(op.mediator).address } : {}),
            threshold: op.threshold,
            ...(op.deadline > 0 ? { deadlineHeight: chain.app.height + 1 + op.deadline } : {}),
          }),
        ],
      };
    case 'approve': {
      const e = esc(op.n);
      return e && { from: partyOf(e, op.who), msgs: [m.approve(e.id, op.release ? 'release' : 'refund')] };
    }
    case 'dispute': {
      const e = esc(op.n);
      return e && { from: partyOf(e, op.who), msgs: [m.dispute(e.id)] };
    }
    case 'propose': {
      const e = disputed(op.n);
      if (!e) return undefined;
      const payee = share(BigInt(e.amount), Math.min(op.payee, 1000));
      const payer = BigInt(e.amount) - payee + (op.payee > 1000 ? 1n : 0n);
      const from = op.byMediator && e.mediator ? PEOPLE.find((x) => x.address === e.mediator) ?? carol : bob;
      return { from, msgs: [m.propose(e.id, payee, payer)] };
    }
    case 'countersign': {
      const e = disputed(op.n);
      if (!e) return undefined;
      const prop = e.dispute?.proposal;
      const payee = prop ? BigInt(prop.payeeAmount) : 0n;
      const payer = prop ? BigInt(prop.payerAmount) : BigInt(e.amount);
      const from = PEOPLE.find((x) => x.address === (op.payer ? e.payer : e.payee))!;
      return { from, msgs: [m.countersign(e.id, op.exact ? payee : payee + 1n, op.exact ? payer : payer > 0n ? payer - 1n : 0n)] };
    }
    case 'rejectSplit': {
      const e = disputed(op.n);
      return e && { from: PEOPLE.find((x) => x.address === (op.payer ? e.payer : e.payee))!, msgs: [m.rejectSplit(e.id)] };
    }
    case 'replace': {
      const e = disputed(op.n);
      return e && { from: PEOPLE.find((x) => x.address === (op.payer ? e.payer : e.payee))!, msgs: [m.replaceMediator(e.id, p(op.mediator))] };
    }
    case 'refund': {
      const e = esc(op.n);
      return e && { from: partyOf(e, op.who), msgs: [m.refund(e.id)] };
    }
    case 'channel':
      return { from: p(op.buyer), msgs: [m.channelOpen(p(op.seller), amt(op.deposit, p(op.buyer), op.asset), op.delay, asset(op.asset))] };
    case 'close': {
      const all = chain.store.scan<Channel>('payments/channel/').map(([, x]) => x);
      const open = all.filter((x) => x.status === 'open');
      const c = op.n === 7 ? pick(all, op.n) : pick(open.length > 0 ? open : all, op.n);
      if (!c) return undefined;
      const buyer = PEOPLE.find((x) => x.address === c.buyer)!;
      const seller = PEOPLE.find((x) => x.address === c.seller)!;
      const v = op.pay === 0 ? undefined : voucher(buyer, { channel: c.id, amount: String(share(BigInt(c.deposit), op.pay)), wh: op.pay, seq: op.pay });
      return { from: op.bySeller ? seller : buyer, msgs: [m.channelClose(c.id, v)] };
    }
    case 'reclaim': {
      const c = pick(chain.store.scan<Channel>('payments/channel/').map(([, x]) => x), op.n);
      return c && { from: PEOPLE.find((x) => x.address === c.buyer)!, msgs: [m.reclaim(c.id)] };
    }
    case 'lock':
      return { from: p(op.who), msgs: [m.probe('testmarket', 'lock', { ref: lockRef(op.ref), asset: asset(op.asset), amount: String(amt(op.amount, p(op.who), op.asset)) })] };
    case 'unlock': {
      const lock = chain.store.get<{ amount: string }>(`payments/lock/testmarket/${lockRef(op.ref)}`);
      const part = lock ? share(BigInt(lock.amount), op.part) : 1n;
      return { from: alice, msgs: [m.probe('testmarket', 'unlock', { ref: lockRef(op.ref), ...(op.part === 1000 ? {} : { amount: String(part) }) })] };
    }
    case 'payLock': {
      const lock = chain.store.get<{ amount: string }>(`payments/lock/testmarket/${lockRef(op.ref)}`);
      return { from: alice, msgs: [m.probe('testmarket', 'pay', { ref: lockRef(op.ref), to: p(op.to).address, amount: String(lock ? share(BigInt(lock.amount), op.part) : 1n) })] };
    }
    case 'mEscrow':
      return { from: p(op.payer), msgs: [m.probe('testmarket', 'escrow-open', { ref: `p/${op.ref}`, payee: p(op.payee).address, asset: asset(op.asset), amount: String(amt(op.amount, p(op.payer), op.asset)) })] };
    case 'mPay': {
      const e = chain.store.get<Escrow>(`payments/escrow/testmarket/p/${op.ref}`);
      const rest = e ? BigInt(e.amount) - BigInt(e.paidToPayee) - BigInt(e.paidToPayer) : 1n;
      const amountValue = op.part >= 1000 ? {} : { amount: String(share(rest, op.part)) };
      return { from: alice, msgs: [m.probe('testmarket', op.release ? 'escrow-release' : 'escrow-refund', { ref: `p/${op.ref}`, ...amountValue })] };
    }
    case 'wait':
      return undefined;
  }
}

function observe(chain: TestChain, model: Model, res: TxResult): void {
  for (const e of res.events) {
    if (e.type === 'payments.mint') model.supply.set(e.attributes.asset!, (model.supply.get(e.attributes.asset!) ?? 0n) + BigInt(e.attributes.amount!));
    if (e.type === 'payments.redeem_completed') model.supply.set(e.attributes.asset!, model.supply.get(e.attributes.asset!)! - BigInt(e.attributes.amount!));
    if (e.type === 'payments.escrow_payout' && e.attributes.id!.startsWith('e')) model.payouts.set(e.attributes.id!, (model.payouts.get(e.attributes.id!) ?? 0) + 1);
  }
  for (const [id, n] of model.payouts) expect(n, `user escrow ${id} paid out ${n} times`).toBe(1);
  for (const a of ASSETS) expect(BigInt(chain.store.get<{ supply: string }>(`payments/asset/${a.id}`)!.supply)).toBe(model.supply.get(a.id) ?? 0n);
  // closed escrows and channels never change again
  for (const [key, value] of chain.store.scan<Escrow | Channel>('payments/escrow/').concat(chain.store.scan<Escrow | Channel>('payments/channel/'))) {
    const seen = model.closed.get(key);
    if (seen !== undefined) expect(JSON.stringify(value)).toBe(seen);
    else if (value.status !== 'open') model.closed.set(key, JSON.stringify(value));
  }
}

describe('payments invariants (fast-check)', () => {
  it('hold for random sequences of all operations', () => {
    let accepted = 0;
    let rejected = 0;
    const stats = new Map<string, number>();
    fc.assert(
      fc.property(fc.array(opArb, { minLength: 30, maxLength: 90, size: 'max' }), (ops) => {
        const chain = payChain({ genesisModules: { payments: { minRefundDelayMs: 1000 }, testmarket: {}, thief: {} } });
        ok(chain, issuer, m.createAsset());
        ok(chain, issuer2, m.createAsset('EUR', null, 'Community euro'));
        const holders = PEOPLE.slice(0, -1);
        ok(chain, issuer, holders.map((h, i) => m.mint(h, SEED, `SEED-${i}`)));
        ok(chain, issuer2, holders.map((h, i) => m.mint(h, SEED, `SEED-${i}`, 'EUR')));
        const seeded = SEED * BigInt(holders.length);
        const model: Model = { supply: new Map([['NOK@microgrid', seeded], ['EUR', seeded]]), redemptions: [], escrows: [], channels: [], closed: new Map(), payouts: new Map() };
        for (const op of ops) {
          const tx = build(chain, op);
          if (!tx) {
            chain.block([], chain.time + (op.k === 'wait' ? op.ms : 1000));
            checkConservation(chain);
            continue;
          }
          const before = snapshot(chain);
          if (tx.from === revokee) {
            // A revoked sender's transaction cannot be in a block at all (BLOCK_INVALID_TX), and changes nothing.
            expect(() => chain.send(tx.from, tx.msgs)).toThrow(expect.objectContaining({ code: 'BLOCK_INVALID_TX' }));
            expect(snapshot(chain)).toEqual(before);
            continue;
          }
          const res = chain.send(tx.from, tx.msgs);
          expect(res.code === 'INTERNAL_ERROR', res.message).toBe(false);
          stats.set(`${op.k}:${res.code}`, (stats.get(`${op.k}:${res.code}`) ?? 0) + 1);
          if (res.code === 'OK') accepted++;
          else {
            rejected++;
            const after = snapshot(chain);
            const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k));
            expect(changed.every((k) => k.startsWith('nonce/') || k.startsWith('auth/nonce/')), `${res.code} changed ${changed.join(', ')}`).toBe(true);
            expect(changed.length).toBe(1);
          }
          checkConservation(chain);
          observe(chain, model, res);
        }
        // The node's indexes of what holds each account's funds (ADR 0029 point 1) give the balances
        // the account's whole history gives (what a proven answer reads).
        for (const who of PEOPLE) expect(chain.query(payments, 'paymentsBalances', { address: who.address }), who.name).toEqual(chain.query(payments, 'paymentsBalances', { address: who.address }, {}, { queryIndexes: false }));
        expect(chain.internalErrors).toEqual([]);
      }),
      { numRuns: 60 },
    );
    if (process.env.PAY_STATS) console.log(accepted, rejected, [...stats.entries()].filter(([k]) => k.endsWith(':OK')).sort());
    // the generator reaches both outcomes often
    expect(accepted).toBeGreaterThan(500);
    expect(rejected).toBeGreaterThan(300);
  });
});
