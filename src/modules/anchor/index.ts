import type { ModuleEntry } from '../../surface/index.js';
import { anchorCore } from './module.js';
import { anchorSurface } from './surface.js';

export const anchor: ModuleEntry = { core: anchorCore, surface: anchorSurface };
