import { timedTxRef } from '../../app/tx-ref.js';
import type { KeepersOf, ModuleContext } from '../../app/module.js';
import { E } from './errors.js';
import type { OfferMsg, TakeMsg, WithdrawOfferMsg } from './messages.js';
import { escrowOffer, getAccount, getOffer, markEscrow, nextOfferId, putOffer, type Offer } from './state.js';

/**
 * The anonymous offer board (issue 16 #3, PriWatt's flow): a trader-anon account posts an offer;
 * another takes it by naming the 2-of-3 payments escrow it opened (payer the taker, payee the
 * seller, mediator a grid operator, threshold 2). Settlement is the payments module's: the grid
 * operator, the one party that knows the physical meters, approves the release once its metering
 * shows the delivery (with the seller's approval that is 2 of 3); in a dispute it proposes a
 * split and one party countersigns. The board only records which escrow settles which offer.
 */

export const BOARD_REQUIRES = ['registry', 'payments'] as const;
type BoardContext = ModuleContext<KeepersOf<typeof BOARD_REQUIRES>, unknown>;

const txRef = timedTxRef;

function requireAnonymous(ctx: BoardContext): void {
  const account = getAccount(ctx.store, ctx.sender);
  if (!account || account.status !== 'active' || !ctx.keepers.registry.isActive(ctx.sender, 'trader-anon')) throw E.ANON_NOT_ANONYMOUS(`${ctx.sender} is not an active anonymous trade account`);
}

function openOffer(ctx: BoardContext, id: string): Offer {
  const offer = getOffer(ctx.store, id);
  if (!offer) throw E.ANON_OFFER_NOT_FOUND(`no offer ${id}`);
  if (offer.status !== 'open') throw E.ANON_OFFER_NOT_OPEN(`offer ${id} is ${offer.status}`);
  return offer;
}

export function postOffer(ctx: BoardContext, msg: OfferMsg): void {
  requireAnonymous(ctx);
  if (!ctx.keepers.payments.asset(msg.asset)) throw E.ANON_ASSET_NOT_FOUND(`no asset ${msg.asset}`);
  if (msg.deliveryEnd <= msg.deliveryStart) throw E.ANON_DELIVERY_WINDOW_INVALID('the delivery window must end after it starts');
  const id = nextOfferId(ctx.store);
  putOffer(ctx.store, { id, seller: ctx.sender, ...msg, status: 'open', createdAt: txRef(ctx) });
  ctx.emit('anon.offer_posted', { id, seller: ctx.sender, energyWh: msg.energyWh, amount: msg.amount, asset: msg.asset });
}

/** The escrow must be exactly the offer's 2-of-3 with a grid operator mediating, and settle nothing else. */
function checkEscrow(ctx: BoardContext, offer: Offer, id: string): string {
  const e = ctx.keepers.payments.escrowById(id);
  if (!e) throw E.ANON_ESCROW_NOT_FOUND(`no escrow ${id}`);
  const mismatch = (what: string) => E.ANON_ESCROW_MISMATCH(`escrow ${id}: ${what}`);
  if (e.kind !== 'user' || e.status !== 'open') throw mismatch(`must be an open escrow opened by message (it is ${e.kind}, ${e.status})`);
  if (e.payer !== ctx.sender || e.payee !== offer.seller) throw mismatch('the taker must pay the seller');
  if (e.asset !== offer.asset || e.amount !== offer.amount) throw mismatch(`must hold ${offer.amount} of ${offer.asset}`);
  if (e.threshold !== 2 || e.parties.length !== 3 || e.mediator === undefined) throw mismatch('must be 2-of-3 with a mediator');
  if (!ctx.keepers.registry.isActive(e.mediator, 'grid-operator')) throw mismatch(`the mediator ${e.mediator} must be an admitted grid operator`);
  if (escrowOffer(ctx.store, id)) throw E.ANON_ESCROW_USED(`escrow ${id} already settles offer ${escrowOffer(ctx.store, id)}`);
  return e.mediator;
}

export function takeOffer(ctx: BoardContext, msg: TakeMsg): void {
  requireAnonymous(ctx);
  const offer = openOffer(ctx, msg.offer);
  if (offer.seller === ctx.sender) throw E.ANON_OWN_OFFER('a seller cannot take its own offer');
  const mediator = checkEscrow(ctx, offer, msg.escrow);
  markEscrow(ctx.store, msg.escrow, offer.id);
  putOffer(ctx.store, { ...offer, status: 'taken', buyer: ctx.sender, escrow: msg.escrow, mediator, closedAt: txRef(ctx) });
  ctx.emit('anon.offer_taken', { id: offer.id, seller: offer.seller, buyer: ctx.sender, escrow: msg.escrow, mediator });
}

export function withdrawOffer(ctx: BoardContext, msg: WithdrawOfferMsg): void {
  const offer = openOffer(ctx, msg.offer);
  if (offer.seller !== ctx.sender) throw E.ANON_NOT_SELLER(`offer ${offer.id} belongs to ${offer.seller}`);
  putOffer(ctx.store, { ...offer, status: 'withdrawn', closedAt: txRef(ctx) });
  ctx.emit('anon.offer_withdrawn', { id: offer.id });
}
