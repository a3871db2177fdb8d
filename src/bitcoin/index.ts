/**
 * The pure, deterministic half of GridLedger's Bitcoin anchoring: checkpoint digests and payloads,
 * inclusion paths, raw-transaction parsing, Bitcoin Merkle branches and block headers. No I/O, no
 * clock, no floats: the ledger's state machine may import this. The wallet, the transaction builder and
 * the network backends are in `./service.ts`.
 */
export * from './checkpoint.js';
export * from './errors.js';
export * from './header.js';
export * from './inclusion.js';
export * from './merkle.js';
export * from './network.js';
export * from './tx.js';
export * from './verify.js';
export { fromDisplayHex, sha256d, toDisplayHex } from './bytes.js';
