import { useSyncExternalStore } from 'react';

/** Who uses the page: the unlocked account (its key stays in memory only) and its login token. */
export interface SessionState {
  name: string | null;
  address: string | null;
  publicKey: Uint8Array | null;
  secretKey: Uint8Array | null;
  token: string | null;
  roles: string[];
  expiresAt: number | null;
}

const EMPTY: SessionState = { name: null, address: null, publicKey: null, secretKey: null, token: null, roles: [], expiresAt: null };

function store<T>(initial: T) {
  let value = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => value,
    set(next: Partial<T>) {
      value = { ...value, ...next };
      for (const l of listeners) l();
    },
    reset() {
      value = initial;
      for (const l of listeners) l();
    },
    subscribe(l: () => void) {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
}

export const session = store<SessionState>(EMPTY);

export function useSession(): SessionState {
  return useSyncExternalStore(session.subscribe, session.get);
}
