import { HDKey } from '@scure/bip32';
import { NETWORK, p2wpkh, TEST_NETWORK } from '@scure/btc-signer';
import { toHex } from '../../util/bytes.js';
import { ANCHOR_ERRORS as E } from '../errors.js';
import { isBitcoinNetwork, type BitcoinNetwork } from '../network.js';

/**
 * The anchor operator's HD wallet (BIP32 with @scure/bip32), BIP84-style:
 *
 *   m / 84' / coin' / account' / 0 / i      coin 0 on mainnet, 1 on testnet, signet and regtest
 *
 * Address i is the native SegWit v0 (P2WPKH) address of that key. The wallet uses `addressCount`
 * (≥ 2) receive addresses in turn — eDREAM's scheme: anchor number n is paid from address n mod N
 * to address (n + 1) mod N, so the coins go round between the wallet's own addresses and the wallet
 * only ever spends the fees.
 */

export type BtcSignerNetwork = typeof NETWORK;

/** btc-signer's address parameters; regtest's bech32 prefix is "bcrt" (base58 bytes as testnet). */
export const BTC_SIGNER_NETWORKS: Readonly<Record<BitcoinNetwork, BtcSignerNetwork>> = {
  mainnet: NETWORK,
  testnet: TEST_NETWORK,
  signet: TEST_NETWORK,
  regtest: Object.freeze({ ...TEST_NETWORK, bech32: 'bcrt' }),
};

/** BIP32 serialisation versions: xprv/xpub on mainnet, tprv/tpub elsewhere (as Bitcoin Core prints them). */
const BIP32_VERSIONS = {
  mainnet: { private: 0x0488ade4, public: 0x0488b21e },
  test: { private: 0x04358394, public: 0x043587cf },
} as const;

export const BIP84_PURPOSE = 84;
/** Child indices at or above this are hardened. */
const HARDENED = 0x80000000;

export function coinType(network: BitcoinNetwork): 0 | 1 {
  return network === 'mainnet' ? 0 : 1;
}

export interface AnchorWalletOptions {
  /** BIP32 seed, 16..64 bytes (e.g. 32 random bytes kept in the node's keyring). */
  seed: Uint8Array;
  network: BitcoinNetwork;
  /** BIP84 account, default 0. */
  account?: number;
  /** How many receive addresses take turns (≥ 2), default 2. */
  addressCount?: number;
}

export interface AnchorAddress {
  index: number;
  /** Full derivation path, e.g. m/84'/1'/0'/0/1. */
  path: string;
  address: string;
  /** Compressed public key (33 bytes, hex). */
  publicKey: string;
  /** Output script paying the address (0014 + HASH160(publicKey)), hex. */
  scriptPubKey: string;
}

export interface AnchorRoles {
  sender: AnchorAddress;
  receiver: AnchorAddress;
}

export class AnchorWallet {
  readonly network: BitcoinNetwork;
  readonly account: number;
  readonly addressCount: number;
  /** m/84'/coin'/account'/0: the receive chain. */
  private readonly chain: HDKey;
  private readonly accountKey: HDKey;
  /** Derived keys and addresses by index: derivation is an elliptic-curve multiplication, done once. */
  private readonly children = new Map<number, { key: HDKey; address: AnchorAddress }>();

  private constructor(network: BitcoinNetwork, account: number, addressCount: number, accountKey: HDKey) {
    this.network = network;
    this.account = account;
    this.addressCount = addressCount;
    this.accountKey = accountKey;
    this.chain = accountKey.deriveChild(0);
  }

  static fromSeed(opts: AnchorWalletOptions): AnchorWallet {
    const { seed, network, account = 0, addressCount = 2 } = opts;
    if (!isBitcoinNetwork(network)) throw E.ANCHOR_WALLET_INVALID(`network must be mainnet, testnet, signet or regtest, got ${String(network)}`);
    if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64) throw E.ANCHOR_WALLET_INVALID('seed must be 16..64 bytes');
    if (!Number.isInteger(account) || account < 0 || account >= HARDENED) throw E.ANCHOR_WALLET_INVALID(`account must be an integer in 0..2^31-1, got ${account}`);
    if (!Number.isInteger(addressCount) || addressCount < 2 || addressCount > 1000) throw E.ANCHOR_WALLET_INVALID(`addressCount must be an integer in 2..1000, got ${addressCount}`);
    const versions = network === 'mainnet' ? BIP32_VERSIONS.mainnet : BIP32_VERSIONS.test;
    const master = HDKey.fromMasterSeed(seed, versions);
    const accountKey = master.derive(`m/${BIP84_PURPOSE}'/${coinType(network)}'/${account}'`);
    master.wipePrivateData();
    return new AnchorWallet(network, account, addressCount, accountKey);
  }

  /** m/84'/coin'/account' */
  get accountPath(): string {
    return `m/${BIP84_PURPOSE}'/${coinType(this.network)}'/${this.account}'`;
  }

  /** The account's extended public key (xpub/tpub): lets a watch-only wallet follow the anchor addresses. */
  get accountXpub(): string {
    return this.accountKey.publicExtendedKey;
  }

  address(index: number): AnchorAddress {
    return { ...this.child(index).address };
  }

  /** The addresses that take turns, 0..addressCount-1. */
  addresses(): AnchorAddress[] {
    return Array.from({ length: this.addressCount }, (_, i) => this.address(i));
  }

  /** Who pays whom for anchor number `sequence` (0, 1, 2, …): sender = sequence mod N, receiver = the next address. */
  rolesFor(sequence: number): AnchorRoles {
    if (!Number.isSafeInteger(sequence) || sequence < 0) throw E.ANCHOR_WALLET_INVALID(`anchor sequence must be a safe non-negative integer, got ${sequence}`);
    const sender = sequence % this.addressCount;
    return { sender: this.address(sender), receiver: this.address((sender + 1) % this.addressCount) };
  }

  /** A copy of the private key of address `index` (for signing; callers wipe it after use). */
  privateKey(index: number): Uint8Array {
    return Uint8Array.from(this.child(index).key.privateKey!);
  }

  private child(index: number): { key: HDKey; address: AnchorAddress } {
    if (!Number.isInteger(index) || index < 0 || index >= HARDENED) throw E.ANCHOR_WALLET_INVALID(`address index must be an integer in 0..2^31-1, got ${index}`);
    let entry = this.children.get(index);
    if (!entry) {
      const key = this.chain.deriveChild(index);
      const pay = p2wpkh(key.publicKey!, BTC_SIGNER_NETWORKS[this.network]);
      const address = { index, path: `${this.accountPath}/0/${index}`, address: pay.address!, publicKey: toHex(key.publicKey!), scriptPubKey: toHex(pay.script) };
      entry = { key, address };
      this.children.set(index, entry);
    }
    return entry;
  }
}
