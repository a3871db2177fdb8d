import type { ModuleEntry } from '../../surface/index.js';
import { flexCore } from './module.js';
import { flexSurface } from './surface.js';

export const flex: ModuleEntry = { core: flexCore, surface: flexSurface };

export type { FlexKeeper } from './keeper.js';
export { eventField, penaltyOf, slotsOf, intervalStart, intervalEnd, deadlineOf, DEFAULT_PARAMS, type FlexParams, type FlexEvent, type IntervalRecord } from './keeper.js';
export { MSG as FLEX_MSG, MAX_WH, type CommitMsg, type ProveMsg, type SlotFingerprint } from './messages.js';
export { flexRoutes } from './routes.js';
export { fetchEvent, readJsonArg } from './cli.js';
