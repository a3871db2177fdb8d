import { BASE_MODULES, latestStateVersions } from '../app/kernel.js';
import type { ModuleEntry } from '../surface/index.js';
import { anchor } from './anchor/index.js';
import { anon } from './anon/index.js';
import { energy } from './energy/index.js';
import { flex } from './flex/index.js';
import { market } from './market/index.js';
import { metering } from './metering/index.js';
import { payments } from './payments/index.js';
import { registry } from './registry/index.js';
import { settlement } from './settlement/index.js';
import { shares } from './shares/index.js';

/**
 * The modules this build runs. Adding a module: create its folder (core + surface) and add one line
 * here. The order of this list does not matter: the kernel orders modules by their dependencies.
 */
export const MODULES: readonly ModuleEntry[] = [registry, metering, energy, shares, settlement, anchor, payments, flex, market, anon];

export const MODULE_CORES = MODULES.map((m) => m.core);

/**
 * Genesis sections a new chain starts with: an (empty, i.e. default) entry for every module beyond
 * the base set, so a new chain activates every module this build has. Existing chains activate new
 * modules by governance (`registry/propose` with `activate-module`).
 */
export function genesisModuleSections(): Record<string, unknown> {
  return Object.fromEntries(MODULES.filter((m) => !BASE_MODULES.includes(m.core.name)).map((m) => [m.core.name, {}]));
}

/** State versions a new chain starts at (ADR 0029): the newest of every module this build has. */
export function genesisStateVersions(): Record<string, number> {
  return latestStateVersions(MODULE_CORES);
}
