/**
 * The anchor service's half of the Bitcoin library: the HD wallet, the transaction builder and the
 * backends that reach Bitcoin (Core JSON-RPC, Esplora REST, offline folder). Does I/O (backends only);
 * never imported by ledger code — that uses `./index.ts`.
 */
export * from './wallet/wallet.js';
export * from './wallet/builder.js';
export * from './backends/types.js';
export { BitcoinCoreRpcBackend, btcToSats, type BitcoinCoreRpcOptions } from './backends/rpc.js';
export { EsploraBackend, type EsploraOptions } from './backends/esplora.js';
export { OfflineBackend, type OfflineOptions } from './backends/offline.js';
