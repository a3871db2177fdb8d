import type { ModuleEntry } from '../../surface/index.js';
import { meteringCore } from './module.js';
import { meteringSurface } from './surface.js';

export const metering: ModuleEntry = { core: meteringCore, surface: meteringSurface };
