import type { ModuleEntry } from '../../surface/index.js';
import { anonCore } from './module.js';
import { anonSurface } from './surface.js';

export const anon: ModuleEntry = { core: anonCore, surface: anonSurface };

export type { AnonKeeper } from './keeper.js';
export { ANON_ROLE, DEFAULT_PARAMS, epochField, epochOf, type AnonParams, type AnonAccount, type Member } from './keeper.js';
export { MSG as ANON_MSG, type AdmitMsg } from './messages.js';
export { anonRoutes } from './routes.js';
export { buildAdmission, identitySecret, type AdmissionRequest } from './cli.js';
