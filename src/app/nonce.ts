import type { KVStore } from './state.js';

/** Per-account nonces are owned by the host: the number of transactions the account has had committed. */
export const NONCE_PREFIX = 'auth/nonce/';

export function accountNonce(store: KVStore, address: string): number {
  return store.get<number>(NONCE_PREFIX + address) ?? 0;
}
