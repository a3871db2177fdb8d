/** The Bitcoin networks an anchor can live on. Testnet means testnet3/testnet4 (same address and key formats). */
export type BitcoinNetwork = 'mainnet' | 'testnet' | 'signet' | 'regtest';

export const BITCOIN_NETWORKS: readonly BitcoinNetwork[] = ['mainnet', 'testnet', 'signet', 'regtest'];

export function isBitcoinNetwork(x: unknown): x is BitcoinNetwork {
  return typeof x === 'string' && (BITCOIN_NETWORKS as readonly string[]).includes(x);
}

/** Each network's proof-of-work limit (Bitcoin Core's consensus.powLimit): the easiest target a header may claim. */
export const POW_LIMIT: Readonly<Record<BitcoinNetwork, bigint>> = {
  mainnet: BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
  testnet: BigInt('0x00000000ffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
  signet: BigInt('0x00000377ae000000000000000000000000000000000000000000000000000000'),
  regtest: BigInt('0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff'),
};
