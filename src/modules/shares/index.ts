import type { ModuleEntry } from '../../surface/index.js';
import { sharesCore } from './module.js';
import { sharesSurface } from './surface.js';

export const shares: ModuleEntry = { core: sharesCore, surface: sharesSurface };
