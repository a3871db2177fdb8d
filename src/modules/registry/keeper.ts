import type { ModuleContext } from '../../app/module.js';
import { getAccount, hasAnyRole, isActive, listValidators, ROLES, type Account, type Role, type ValidatorEntry } from './state.js';

/** What other modules may ask the registry: who is admitted, with which roles. */
export interface RegistryKeeper {
  account(address: string): Account | undefined;
  /** Admitted, not revoked, and (when given) holding `role`. */
  isActive(address: string, role?: Role): boolean;
  /** Admitted, not revoked, and holding at least one of `roles`. */
  hasAnyRole(address: string, roles: readonly Role[]): boolean;
  validators(): ValidatorEntry[];
}

declare module '../../app/module.js' {
  interface Keepers {
    registry: RegistryKeeper;
  }
}

export function registryKeeper(ctx: ModuleContext): RegistryKeeper {
  const { store } = ctx;
  return {
    account: (address) => getAccount(store, address),
    isActive: (address, role) => isActive(getAccount(store, address), role),
    hasAnyRole: (address, roles) => hasAnyRole(store, address, roles),
    validators: () => listValidators(store),
  };
}

export { ROLES, type Account, type Role, type ValidatorEntry };
