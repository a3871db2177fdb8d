import type { ModuleEntry } from '../../surface/index.js';
import { energyCore } from './module.js';
import { energySurface } from './surface.js';

export const energy: ModuleEntry = { core: energyCore, surface: energySurface };
