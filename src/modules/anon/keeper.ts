import type { ModuleContext } from '../../app/module.js';
import { getAccount, getMember, type AnonAccount, type Member } from './state.js';

/** What other modules may ask of anon: an anonymous account's lifetime, a member's registration. */
export interface AnonKeeper {
  /** The anonymous trade account (admitted by proof), if `address` is one. */
  account(address: string): AnonAccount | undefined;
  /** True while `address` is an anonymous account that has not expired. */
  isAnonymous(address: string): boolean;
  member(address: string): Member | undefined;
}

declare module '../../app/module.js' {
  interface Keepers {
    anon: AnonKeeper;
  }
}

export function anonKeeper(ctx: ModuleContext<any, any>): AnonKeeper {
  const { store } = ctx;
  return {
    account: (address) => getAccount(store, address),
    isAnonymous: (address) => getAccount(store, address)?.status === 'active',
    member: (address) => getMember(store, address),
  };
}

export { ANON_ROLE, DEFAULT_PARAMS, epochField, epochOf, validRoots, type AnonParams } from './rules.js';
export type { AnonAccount, Member, RootSet } from './state.js';
