import type { ModuleEntry } from '../../surface/index.js';
import { registryCore } from './module.js';
import { registrySurface } from './surface.js';

export const registry: ModuleEntry = { core: registryCore, surface: registrySurface };
