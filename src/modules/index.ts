import type { ModuleEntry } from '../surface/index.js';
import { energy } from './energy/index.js';
import { metering } from './metering/index.js';
import { registry } from './registry/index.js';
import { settlement } from './settlement/index.js';
import { shares } from './shares/index.js';

/**
 * The modules this build runs. Adding a module: create its folder (core + surface) and add one line
 * here. The order of this list does not matter: the kernel orders modules by their dependencies.
 */
export const MODULES: readonly ModuleEntry[] = [registry, metering, energy, shares, settlement];

export const MODULE_CORES = MODULES.map((m) => m.core);
