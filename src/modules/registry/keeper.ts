import { defineHook, type ModuleContext } from '../../app/module.js';
import { appendLog, getAccount, hasAnyRole, isActive, listValidators, putAccount, ROLES, type Account, type Role, type ValidatorEntry } from './state.js';

/** What other modules may ask the registry: who is admitted, with which roles. */
export interface RegistryKeeper {
  account(address: string): Account | undefined;
  /** Admitted, not revoked, and (when given) holding `role`. */
  isActive(address: string, role?: Role): boolean;
  /** Admitted, not revoked, and holding at least one of `roles`. */
  hasAnyRole(address: string, roles: readonly Role[]): boolean;
  validators(): ValidatorEntry[];
  /**
   * Admits an account a module vouched for (anon: a membership proof admits a trader-anon account).
   * Recorded as admitted by the module, with no other name: nothing links it to who proved.
   */
  admitByModule(module: string, address: string, roles: readonly Role[]): void;
  /** Revokes an account a module admitted (e.g. an anonymous account at its expiry). */
  revokeByModule(module: string, address: string, reason: string): void;
}

/** An operator revoked an account (registry/revoke); subscribers act in the same transaction (anon drops its identity commitment). */
export const accountRevoked = defineHook<{ address: string }>('registry', 'accountRevoked');

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
    admitByModule: (module, address, roles) => {
      const at = { height: ctx.height, txHash: ctx.txHash };
      const sorted = [...roles].sort();
      putAccount(store, { address, roles: sorted, status: 'admitted', admittedAt: at, admittedBy: `module:${module}` });
      appendLog(store, { action: 'admit', address, roles: sorted, by: `module:${module}`, ...at }, ctx.msgIndex);
    },
    revokeByModule: (module, address, reason) => {
      const account = getAccount(store, address);
      if (!account || account.admittedBy !== `module:${module}` || account.status === 'revoked') return;
      // At the end of a block there is no transaction: name the entry after the account so two revocations keep two log entries.
      const at = { height: ctx.height, txHash: ctx.txHash || `end-block:${address}` };
      putAccount(store, { ...account, status: 'revoked', revokedAt: at, revokedBy: `module:${module}`, revokeReason: reason });
      appendLog(store, { action: 'revoke', address, roles: account.roles, by: `module:${module}`, ...at, reason }, ctx.msgIndex);
    },
  };
}

export { ROLES, type Account, type Role, type ValidatorEntry };
