import { timedTxRef } from '../../app/tx-ref.js';
import type { KeepersOf, ModuleContext } from '../../app/module.js';
import type { KVStore } from '../../app/state.js';
import { amountString, MAX_AMOUNT, toAmount } from './amount.js';
import { E } from './errors.js';
import { getAsset, putAsset, type Asset, type HeldBucket } from './state.js';
import { DAY_MS } from '../../util/slots.js';

/** Shared pieces of the payments rules: context, parameters, counterparty and asset checks, aggregates. */

export const REQUIRES = ['registry'] as const;

export interface PaymentsParams {
  /** Refund delay of a channel when the opener gives none (the issue's 24 h). */
  defaultRefundDelayMs: number;
  /** Shortest refund delay: the seller needs time to get its close into a block. */
  minRefundDelayMs: number;
  maxRefundDelayMs: number;
  /** Escrow deadline after the opening block's time when the opener gives none. */
  defaultEscrowDeadlineMs: number;
  /** Most parties an escrow may have (payer, payee, mediator and others). */
  maxEscrowParties: number;
}


export const DEFAULT_PARAMS: PaymentsParams = {
  defaultRefundDelayMs: DAY_MS,
  minRefundDelayMs: 60_000,
  maxRefundDelayMs: 366 * DAY_MS,
  defaultEscrowDeadlineMs: 7 * DAY_MS,
  maxEscrowParties: 10,
};

export type PaymentsContext = ModuleContext<KeepersOf<typeof REQUIRES>, PaymentsParams>;

export const txRef = timedTxRef;

export function requireAsset(store: KVStore, id: string): Asset {
  const asset = getAsset(store, id);
  if (!asset) throw E.PAY_ASSET_NOT_FOUND(`no asset ${id}`);
  return asset;
}

export function requireIssuer(ctx: PaymentsContext, asset: Asset): void {
  if (ctx.sender !== asset.issuer) throw E.PAY_NOT_ISSUER(`only the issuer ${asset.issuer} of ${asset.id} may do this`);
}

/** A schema-checked amount string (or bigint) that must be above zero. */
export function requirePositive(amount: string | bigint, what = 'amount'): bigint {
  const v = typeof amount === 'bigint' ? amount : toAmount(amount);
  if (v <= 0n) throw E.PAY_AMOUNT_NOT_POSITIVE(`${what} must be above zero, got ${v}`);
  return v;
}

/** An account money is sent to (or a party named) must be admitted and not revoked. */
export function requireCounterparty(ctx: PaymentsContext, address: string, role: string): void {
  const account = ctx.keepers.registry.account(address);
  if (!account) throw E.PAY_ACCOUNT_NOT_ADMITTED(`${role} ${address} is not an admitted account`);
  if (account.status !== 'admitted') throw E.PAY_ACCOUNT_REVOKED(`${role} ${address} was revoked`);
}

/** Moves `delta` into (or, negative, out of) one of the asset's held aggregates. */
export function adjustHeld(store: KVStore, assetId: string, bucket: HeldBucket, delta: bigint): void {
  const asset = getAsset(store, assetId)!;
  const next = BigInt(asset.held[bucket]) + delta;
  putAsset(store, { ...asset, held: { ...asset.held, [bucket]: amountString(next) } });
}

/** Changes the supply: minted (delta > 0) or burned (delta < 0). Refuses a supply above MAX_AMOUNT. */
export function adjustSupply(store: KVStore, assetId: string, delta: bigint): Asset {
  const asset = getAsset(store, assetId)!;
  const supply = BigInt(asset.supply) + delta;
  if (supply > MAX_AMOUNT) throw E.PAY_SUPPLY_LIMIT(`minting ${delta} would take the supply of ${assetId} to ${supply}, above ${MAX_AMOUNT}`);
  const updated: Asset = {
    ...asset,
    supply: amountString(supply),
    minted: delta > 0n ? (BigInt(asset.minted) + delta).toString() : asset.minted,
    burned: delta < 0n ? (BigInt(asset.burned) - delta).toString() : asset.burned,
  };
  putAsset(store, updated);
  return updated;
}
