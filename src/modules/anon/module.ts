import { z } from 'zod';
import { defineModule, handler, on } from '../../app/module.js';
import { accountRevoked } from '../registry/keeper.js';
import { E } from './errors.js';
import { anonKeeper, type AnonKeeper } from './keeper.js';
import { postOffer, takeOffer, withdrawOffer } from './board.js';
import { admitMsg, MSG, offerMsg, registerKeyMsg, registerMsg, revokeMemberMsg, takeMsg, withdrawOfferMsg } from './messages.js';
import { admit, authorizeAdmission, DEFAULT_PARAMS, endBlock, onAccountRevoked, register, registerKey, REQUIRES, revokeMember, type AnonContext, type AnonParams } from './rules.js';
import { anonQueryIndexes } from './state.js';

const params = z
  .object({
    maxSlots: z.number().int().min(1).max(65_535),
    epochBlocks: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    rootWindowBlocks: z.number().int().min(0).max(1_000_000),
    maxRecentRoots: z.number().int().min(0).max(1024),
    accountLifetimeMs: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    maxExpiriesPerBlock: z.number().int().min(1).max(100_000),
  })
  .strict();

export const anonCore = defineModule<AnonKeeper, AnonParams>({
  name: 'anon',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.registerKey]: handler(registerKeyMsg, registerKey),
    [MSG.register]: handler(registerMsg, register),
    [MSG.revokeMember]: handler(revokeMemberMsg, revokeMember),
    [MSG.admit]: handler(admitMsg, admit),
    [MSG.offer]: handler(offerMsg, postOffer),
    [MSG.take]: handler(takeMsg, takeOffer),
    [MSG.withdrawOffer]: handler(withdrawOfferMsg, withdrawOffer),
  },
  // A fresh key is admitted by its proof, not by an operator: the kernel authorises a transaction
  // whose only message is anon/admit with this check instead of the registry's sender check.
  selfAdmission: { [MSG.admit]: authorizeAdmission },
  params: { schema: params, defaults: DEFAULT_PARAMS },
  keeper: anonKeeper,
  queryIndexes: anonQueryIndexes,
  hooks: [on(accountRevoked, (ctx: AnonContext, event) => onAccountRevoked(ctx, event))],
  endBlock: (ctx: AnonContext) => endBlock(ctx),
});
