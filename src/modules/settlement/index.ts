import type { ModuleEntry } from '../../surface/index.js';
import { settlementCore } from './module.js';
import { settlementSurface } from './surface.js';

export const settlement: ModuleEntry = { core: settlementCore, surface: settlementSurface };
