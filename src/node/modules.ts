import type { AppModule } from '../app/module.js';
import { registryModule } from '../modules/registry/index.js';
import { settlementModule, sharesModule } from '../modules/settlement/index.js';
import { energyModule, meteringModule } from '../modules/energy/index.js';

/** The application modules this build runs, in execution order of their hooks. */
export const MODULES: AppModule[] = [registryModule, meteringModule, energyModule, sharesModule, settlementModule];
