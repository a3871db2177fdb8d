import { OwnerTokens, type ModuleOwner } from '../../app/owners.js';
import { toAmount } from './amount.js';
import { moveFunds } from './assets.js';
import { credit, debit, freeBalance, note } from './books.js';
import { E } from './errors.js';
import { payOutEscrow } from './escrow.js';
import { adjustHeld, requireAsset, requireCounterparty, requirePositive, txRef, type PaymentsContext } from './rules.js';
import { deleteLock, getAsset, getEscrow, getLock, indexParty, putEscrow, putLock, unindexParty, type Asset, type Escrow, type Lock } from './state.js';

/**
 * What market, flexibility and billing use to move money. Amounts are bigint micro-units.
 *
 * Two rules make it safe to hand to other modules:
 *  1. Free balance is debited only from the signer of the transaction being executed
 *     (PAY_DEBIT_NOT_SIGNER otherwise; outside a transaction — end of block — nothing is debited).
 *     A module that must pay later on someone's behalf locks the funds while that someone signs.
 *  2. Locks and module escrows belong to the module that created them: their ids are
 *     "<module>/<ref>", and every call names the caller through its `FundsOwner`, a capability
 *     minted once per module name (`claimFundsOwner('market')` at the module's top level; a second
 *     claim of the same name throws). A module can only reach ids under its own name, so it cannot
 *     unlock, pay from, release or refund another module's funds.
 *
 * Every method checks what the corresponding message rule checks and throws the same codes; a
 * throw rejects the whole transaction (or, at the end of a block, is the calling module's bug).
 */
export interface PaymentsKeeper {
  /** The asset, or undefined. */
  asset(id: string): Asset | undefined;
  /** Free (spendable) balance of an account in an asset; 0 when it never held any. */
  balance(account: string, asset: string): bigint;
  /**
   * Moves free balance from `from` (must be the transaction's signer: PAY_DEBIT_NOT_SIGNER) to `to`.
   * Errors: PAY_AMOUNT_NOT_POSITIVE, PAY_ASSET_NOT_FOUND, PAY_SELF_TRANSFER, PAY_ACCOUNT_NOT_ADMITTED,
   * PAY_ACCOUNT_REVOKED (recipient), PAY_INSUFFICIENT_BALANCE.
   */
  transfer(from: string, to: string, asset: string, amount: bigint, memo?: string): void;
  /**
   * Locks `amount` of the signer's free balance under "<owner>/<ref>".
   * Errors: PAY_DEBIT_NOT_SIGNER, PAY_LOCK_EXISTS (ref in use), PAY_AMOUNT_NOT_POSITIVE, PAY_ASSET_NOT_FOUND, PAY_INSUFFICIENT_BALANCE.
   */
  lock(owner: FundsOwner, ref: string, account: string, asset: string, amount: bigint): Lock;
  /** The caller's lock, or undefined. */
  lockOf(owner: FundsOwner, ref: string): Lock | undefined;
  /**
   * Returns `amount` (default: all that remains) of the lock to its account; the lock disappears
   * when emptied. Returns the amount returned. Errors: PAY_LOCK_NOT_FOUND, PAY_AMOUNT_NOT_POSITIVE, PAY_LOCK_INSUFFICIENT.
   */
  unlock(owner: FundsOwner, ref: string, amount?: bigint): bigint;
  /**
   * Pays `amount` from the lock to `to` (admitted, not revoked); the lock disappears when emptied.
   * Errors: PAY_LOCK_NOT_FOUND, PAY_AMOUNT_NOT_POSITIVE, PAY_LOCK_INSUFFICIENT, PAY_ACCOUNT_NOT_ADMITTED, PAY_ACCOUNT_REVOKED.
   */
  payFromLock(owner: FundsOwner, ref: string, to: string, amount: bigint, memo?: string): void;
  /**
   * Opens a module-driven escrow "<owner>/<ref>": `payer` (the signer) deposits `amount` for `payee`
   * (admitted, not revoked). Errors: PAY_DEBIT_NOT_SIGNER, PAY_ESCROW_EXISTS (also once closed: ids are
   * never reused), PAY_AMOUNT_NOT_POSITIVE, PAY_ASSET_NOT_FOUND, PAY_ESCROW_PAYEE_IS_PAYER,
   * PAY_ACCOUNT_NOT_ADMITTED, PAY_ACCOUNT_REVOKED, PAY_INSUFFICIENT_BALANCE.
   */
  openEscrow(owner: FundsOwner, ref: string, terms: { payer: string; payee: string; asset: string; amount: bigint; memo?: string }): Escrow;
  /** The caller's escrow (open or closed), or undefined. */
  escrowOf(owner: FundsOwner, ref: string): Escrow | undefined;
  /** Any escrow by id, read only (anon's offer board checks that a trade's m-of-n escrow has the agreed terms). */
  escrowById(id: string): Escrow | undefined;
  /**
   * Pays `amount` (default: all that remains) to the payee; closed once nothing remains.
   * Errors: PAY_ESCROW_NOT_FOUND, PAY_ESCROW_CLOSED, PAY_AMOUNT_NOT_POSITIVE, PAY_ESCROW_INSUFFICIENT.
   */
  releaseEscrow(owner: FundsOwner, ref: string, amount?: bigint): bigint;
  /** As `releaseEscrow`, to the payer. */
  refundEscrow(owner: FundsOwner, ref: string, amount?: bigint): bigint;
}

declare module '../../app/module.js' {
  interface Keepers {
    payments: PaymentsKeeper;
  }
}

/** A module's right to hold locks and escrows in the payments module (see PaymentsKeeper). */
export type FundsOwner = ModuleOwner;

const owners = new OwnerTokens({ granter: 'payments', noun: 'funds owner', minted: 'a FundsOwner minted by claimFundsOwner' });

/**
 * Mints the `FundsOwner` of a module. Call once, at the top level of the module's own code, and keep
 * it private to the module; a second claim of the same name throws, so no other code can obtain it.
 */
export const claimFundsOwner = (module: string): FundsOwner => owners.claim(module);

/** "<module>/<ref>" for a genuine owner and a well-formed ref (anything else is the caller's bug). */
const ownedId = (owner: FundsOwner, ref: string): string => owners.ownedId(owner, ref);

function requireSigner(ctx: PaymentsContext, account: string): void {
  if (ctx.sender === '' || account !== ctx.sender) {
    throw E.PAY_DEBIT_NOT_SIGNER(`a module may debit only the signer of the transaction${ctx.sender ? ` (${ctx.sender})` : ' (there is none at the end of a block)'}, not ${account}`);
  }
}

function requireLock(ctx: PaymentsContext, id: string): Lock {
  const lock = getLock(ctx.store, id);
  if (!lock) throw E.PAY_LOCK_NOT_FOUND(`no lock ${id}`);
  return lock;
}

/** Takes `amount` (default all) out of a lock, deleting it when emptied. */
function drawLock(ctx: PaymentsContext, lock: Lock, amount: bigint | undefined): bigint {
  const remaining = toAmount(lock.amount);
  const take = amount === undefined ? remaining : requirePositive(amount);
  if (take > remaining) throw E.PAY_LOCK_INSUFFICIENT(`lock ${lock.id} holds ${remaining}, asked for ${take}`);
  adjustHeld(ctx.store, lock.asset, 'locked', -take);
  if (take === remaining) {
    deleteLock(ctx.store, lock.id);
    unindexParty(ctx.store, lock.account, 'lock', lock.lockedAt.height, lock.id);
  } else {
    putLock(ctx.store, { ...lock, amount: (remaining - take).toString() });
  }
  return take;
}

function requireModuleEscrow(ctx: PaymentsContext, id: string): Escrow {
  const e = getEscrow(ctx.store, id);
  if (!e) throw E.PAY_ESCROW_NOT_FOUND(`no escrow ${id}`);
  if (e.status !== 'open') throw E.PAY_ESCROW_CLOSED(`escrow ${id} was already ${e.status}`);
  return e;
}

function remainingOf(e: Escrow): bigint {
  return toAmount(e.amount) - toAmount(e.paidToPayee) - toAmount(e.paidToPayer);
}

export function paymentsKeeper(ctx: PaymentsContext): PaymentsKeeper {
  const { store } = ctx;
  return {
    asset: (id) => getAsset(store, id),
    balance: (account, asset) => freeBalance(ctx, account, asset),
    transfer(from, to, asset, amount, memo) {
      requireSigner(ctx, from);
      moveFunds(ctx, from, to, asset, amount, memo);
    },
    lock(owner, ref, account, assetId, amount) {
      const id = ownedId(owner, ref);
      requireSigner(ctx, account);
      if (getLock(store, id)) throw E.PAY_LOCK_EXISTS(`lock ${id} already exists`);
      const value = requirePositive(amount);
      const asset = requireAsset(store, assetId);
      debit(ctx, account, asset.id, value, { kind: 'lock', ref: id });
      adjustHeld(store, asset.id, 'locked', value);
      const lock: Lock = { id, module: owner.module, account, asset: asset.id, amount: value.toString(), original: value.toString(), lockedAt: txRef(ctx) };
      putLock(store, lock);
      indexParty(store, account, 'lock', ctx.height, id);
      ctx.emit('payments.locked', { id, account, asset: asset.id, amount: lock.amount });
      return lock;
    },
    lockOf: (owner, ref) => getLock(store, ownedId(owner, ref)),
    unlock(owner, ref, amount) {
      const lock = requireLock(ctx, ownedId(owner, ref));
      const back = drawLock(ctx, lock, amount);
      credit(ctx, lock.account, lock.asset, back, { kind: 'unlock', ref: lock.id });
      ctx.emit('payments.unlocked', { id: lock.id, amount: back.toString() });
      return back;
    },
    payFromLock(owner, ref, to, amount, memo) {
      const lock = requireLock(ctx, ownedId(owner, ref));
      const value = requirePositive(amount);
      requireCounterparty(ctx, to, 'recipient');
      drawLock(ctx, lock, value);
      credit(ctx, to, lock.asset, value, { kind: 'lock-payment-in', ref: lock.id, counterparty: lock.account, memo });
      note(ctx, lock.account, lock.asset, { kind: 'lock-payment-out', ref: lock.id, counterparty: to, memo: memo ?? `paid ${value}` });
      ctx.emit('payments.lock_payment', { id: lock.id, to, amount: value.toString() });
    },
    openEscrow(owner, ref, terms) {
      const id = ownedId(owner, ref);
      requireSigner(ctx, terms.payer);
      if (getEscrow(store, id)) throw E.PAY_ESCROW_EXISTS(`escrow ${id} already exists`);
      const amount = requirePositive(terms.amount);
      const asset = requireAsset(store, terms.asset);
      if (terms.payee === terms.payer) throw E.PAY_ESCROW_PAYEE_IS_PAYER('the payee of an escrow must not be its payer');
      requireCounterparty(ctx, terms.payee, 'payee');
      debit(ctx, terms.payer, asset.id, amount, { kind: 'escrow-deposit', ref: id, counterparty: terms.payee, memo: terms.memo });
      adjustHeld(store, asset.id, 'escrowed', amount);
      const escrow: Escrow = {
        id,
        kind: 'module',
        owner: owner.module,
        asset: asset.id,
        amount: amount.toString(),
        payer: terms.payer,
        payee: terms.payee,
        parties: [terms.payer, terms.payee],
        threshold: 0,
        status: 'open',
        approvals: { release: [], refund: [] },
        paidToPayee: '0',
        paidToPayer: '0',
        ...(terms.memo ? { memo: terms.memo } : {}),
        openedAt: txRef(ctx),
      };
      putEscrow(store, escrow);
      indexParty(store, terms.payer, 'escrow', ctx.height, id);
      indexParty(store, terms.payee, 'escrow', ctx.height, id);
      ctx.emit('payments.escrow_opened', { id, asset: asset.id, amount: escrow.amount, payer: terms.payer, payee: terms.payee, owner: owner.module });
      return escrow;
    },
    escrowOf: (owner, ref) => getEscrow(store, ownedId(owner, ref)),
    escrowById: (id) => getEscrow(store, id),
    releaseEscrow(owner, ref, amount) {
      const e = requireModuleEscrow(ctx, ownedId(owner, ref));
      const value = amount === undefined ? remainingOf(e) : requirePositive(amount);
      payOutEscrow(ctx, e, value, 0n, 'closed');
      return value;
    },
    refundEscrow(owner, ref, amount) {
      const e = requireModuleEscrow(ctx, ownedId(owner, ref));
      const value = amount === undefined ? remainingOf(e) : requirePositive(amount);
      payOutEscrow(ctx, e, 0n, value, 'closed');
      return value;
    },
  };
}

export { amountSchema, MAX_AMOUNT, toAmount } from './amount.js';
export type { Asset, Escrow, Lock } from './state.js';
