import type { AppModule } from '../app/module.js';
import { registryModule } from '../modules/registry/index.js';

/** The application modules this build runs, in execution order of their hooks. */
export const MODULES: AppModule[] = [registryModule];
