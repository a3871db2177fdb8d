import { useSyncExternalStore } from 'react';
import { generateMessagingKey, messagingAddress, messagingKeyFromSecret } from '../../../src/messaging/seal.js';
import type { InboxKey } from '../../../src/messaging/inbox.js';
import { fromHexStrict } from '../../../src/util/bytes.js';
import { decryptSecret, encryptSecret, type EncryptedSecret } from './wallet';

/**
 * Messaging keys in the page (X25519, docs/messaging.md): created here or imported by their secret
 * (the 64 hex digits `gridledger msg keys` keeps), stored in localStorage only encrypted with a
 * passphrase exactly as the wallet stores account keys (lib/wallet.ts), and unlocked into memory to
 * trial-decrypt the node's messages. No secret ever leaves the browser: the node serves every
 * message to everyone and the page opens them itself.
 */

const STORAGE_KEY = 'gridledger.msgkeys.v1';

export interface StoredMsgKey extends EncryptedSecret {
  name: string;
  address: string;
}

export interface UnlockedMsgKey extends InboxKey {
  address: string;
}

export function storedMsgKeys(): StoredMsgKey[] {
  try {
    return JSON.parse(localStorage.getItem(STORAGE_KEY) ?? '[]') as StoredMsgKey[];
  } catch {
    return [];
  }
}

function saveMsgKeys(keys: StoredMsgKey[]): void {
  localStorage.setItem(STORAGE_KEY, JSON.stringify(keys));
}

export function newMsgSecret(): Uint8Array {
  return generateMessagingKey().secretKey;
}

export function parseMsgSecret(hex: string): Uint8Array {
  const secret = fromHexStrict(hex.trim().toLowerCase(), 32);
  if (!secret) throw new Error('paste the messaging secret as 64 hex digits (the 32-byte X25519 key)');
  return secret;
}

/** The unlocked keys (memory only), shared by every panel of the page. */
let unlocked: UnlockedMsgKey[] = [];
const listeners = new Set<() => void>();
function setUnlocked(next: UnlockedMsgKey[]): void {
  unlocked = next;
  for (const l of listeners) l();
}

export function useUnlockedMsgKeys(): UnlockedMsgKey[] {
  return useSyncExternalStore(
    (l) => (listeners.add(l), () => listeners.delete(l)),
    () => unlocked,
  );
}

function unlockedOf(name: string, secretKey: Uint8Array): UnlockedMsgKey {
  return { name, secretKey, address: messagingAddress(messagingKeyFromSecret(secretKey).publicKey) };
}

function withKey(key: UnlockedMsgKey): void {
  setUnlocked([...unlocked.filter((k) => k.name !== key.name), key].sort((a, b) => (a.name < b.name ? -1 : 1)));
}

/** Encrypts and stores a messaging secret under a name, and unlocks it. */
export async function storeMsgKey(name: string, secretKey: Uint8Array, passphrase: string): Promise<StoredMsgKey> {
  if (!name.trim()) throw new Error('name the messaging key (e.g. trade-1)');
  if (secretKey.length !== 32) throw new Error('a messaging key is 32 bytes (64 hex digits)');
  const key = unlockedOf(name, secretKey);
  const stored: StoredMsgKey = { name, address: key.address, ...(await encryptSecret(secretKey, passphrase)) };
  saveMsgKeys([...storedMsgKeys().filter((k) => k.name !== name), stored]);
  withKey(key);
  return stored;
}

/** Unlocks every stored messaging key this passphrase opens; answers how many. */
export async function unlockMsgKeys(passphrase: string): Promise<number> {
  const opened: UnlockedMsgKey[] = [];
  for (const stored of storedMsgKeys()) {
    try {
      opened.push(unlockedOf(stored.name, await decryptSecret(stored, passphrase)));
    } catch {
      /* another passphrase */
    }
  }
  if (opened.length === 0) throw new Error('wrong passphrase (no messaging key opens with it)');
  for (const key of opened) withKey(key);
  return opened.length;
}

export function lockMsgKeys(): void {
  setUnlocked([]);
}

export function forgetMsgKey(name: string): void {
  saveMsgKeys(storedMsgKeys().filter((k) => k.name !== name));
  setUnlocked(unlocked.filter((k) => k.name !== name));
}
