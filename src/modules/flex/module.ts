import { z } from 'zod';
import { defineModule, handler, on } from '../../app/module.js';
import { readingAccepted } from '../metering/keeper.js';
import { E } from './errors.js';
import { flexKeeper, type FlexKeeper } from './keeper.js';
import { flexQueryIndexes } from './state.js';
import { commitMsg, enrolMsg, eventMsg, MSG, programMsg, proveMsg, registerKeyMsg, withdrawMsg } from './messages.js';
import { commit, createEvent, createProgram, DEFAULT_PARAMS, enrol, prove, refusePrivateReading, registerKey, REQUIRES, settleDue, withdraw, type FlexContext, type FlexParams } from './rules.js';

const ms = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

const params = z
  .object({
    proofWindowMs: ms.min(1),
    enrolGraceMs: ms,
    maxIntervals: z.number().int().min(1).max(96),
    maxProofsPerBlock: z.number().int().min(1).max(1000),
    maxSettlementsPerBlock: z.number().int().min(1).max(100_000),
  })
  .strict();

export const flexCore = defineModule<FlexKeeper, FlexParams>({
  name: 'flex',
  requires: REQUIRES,
  errors: E,
  messages: {
    [MSG.registerKey]: handler(registerKeyMsg, registerKey),
    [MSG.program]: handler(programMsg, createProgram),
    [MSG.event]: handler(eventMsg, createEvent),
    [MSG.enrol]: handler(enrolMsg, enrol),
    [MSG.withdraw]: handler(withdrawMsg, withdraw),
    [MSG.commit]: handler(commitMsg, commit),
    [MSG.prove]: handler(proveMsg, prove),
  },
  params: { schema: params, defaults: DEFAULT_PARAMS },
  keeper: flexKeeper,
  queryIndexes: flexQueryIndexes,
  hooks: [on(readingAccepted, (ctx: FlexContext, event) => refusePrivateReading(ctx, { meterId: event.meter.meterId, slot: event.reading.slot }))],
  endBlock: (ctx: FlexContext) => settleDue(ctx),
});
