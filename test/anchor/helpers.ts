import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkpointPayload, parseBitcoinTx, type Checkpoint } from '../../src/bitcoin/index.js';
import { AnchorWallet, buildAnchorTx, type SignedAnchorTx } from '../../src/bitcoin/service.js';
import type { Msg } from '../../src/codec/tx.js';
import { anchorCore } from '../../src/modules/anchor/module.js';
import { checkpointOf } from '../../src/modules/anchor/rules.js';
import { getCheckpoint } from '../../src/modules/anchor/state.js';
import { meteringCore } from '../../src/modules/metering/module.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { electrumProof, merkleRoot } from '../bitcoin/fake-bitcoin.js';
import { account, TestChain } from '../helpers/chain.js';
import { makeHome } from '../helpers/node.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { ensureWalletSeed } from '../../src/runtime/anchor-service.js';

/**
 * Helpers for the anchor module tests: a chain with registry, metering and anchor; readings that carry
 * an interval fingerprint (metering/reading with fingerprint and sampleCount); real anchor transactions
 * from an HD wallet; and synthetic Bitcoin blocks with real Merkle trees and a header ground to the
 * regtest target (0x207fffff), built with the test's own Merkle code (test/bitcoin/fake-bitcoin.ts).
 */

export const GENESIS_TIME = Date.UTC(2026, 5, 1, 12, 0, 0);
export const SLOT = Math.floor(GENESIS_TIME / 900_000) - 4;
export const op = account('anchorop');
export const meterKey = account('meter1');
export const outsider = account('outsider');
export const K = 3;

export function anchorChain(params: Record<string, unknown> = { checkpointInterval: K, network: 'regtest' }): TestChain {
  return new TestChain({
    modules: [registryCore, meteringCore, anchorCore],
    genesisTime: GENESIS_TIME,
    genesisModules: { anchor: params },
    accounts: { anchorop: ['anchor-operator'], meter1: ['meter'], outsider: ['auditor'] },
  });
}

export const registerMeter: Msg = { type: 'metering/register', value: { meterId: 'M1', address: meterKey.address, maxPowerW: 1_000_000 } };

const readingsOf = new WeakMap<TestChain, number>();
/** A signed reading of meter M1 for its next slot (up to 660 per chain) carrying a sample fingerprint, as the edge agent sends it. */
export function fpReading(chain: TestChain, fingerprint: string): Msg {
  const n = (readingsOf.get(chain) ?? 0) + 1;
  readingsOf.set(chain, n);
  const slot = SLOT - 660 + n;
  return { type: 'metering/reading', value: { meterId: 'M1', slot, importWh: 0, exportWh: 0, importRegisterWh: 0, exportRegisterWh: 0, seq: slot, fingerprint, sampleCount: 90 } };
}

export const fp = (label: string) => createHash('sha256').update(`fingerprint:${label}`).digest('hex');

export const WALLET_SEED = new Uint8Array(createHash('sha256').update('anchor test wallet').digest());
export const wallet = AnchorWallet.fromSeed({ seed: WALLET_SEED, network: 'regtest' });
export const FUNDING = { txid: createHash('sha256').update('funding').digest('hex'), vout: 0, value: 100_000n };

export function checkpointAt(chain: TestChain, height: number): Checkpoint {
  const c = getCheckpoint(chain.store, height);
  if (!c) throw new Error(`no checkpoint at ${height}`);
  return checkpointOf(chain.chainId, c);
}

/** A signed anchor transaction for a checkpoint (or any payload), spending `utxo`. */
export function anchorTx(payload: Uint8Array, sequence = 0, utxo = FUNDING): SignedAnchorTx {
  return buildAnchorTx({ wallet, sequence, utxos: [utxo], payload, feeRate: 2 });
}

export function anchorTxFor(chain: TestChain, height: number): SignedAnchorTx {
  return anchorTx(checkpointPayload(checkpointAt(chain, height)));
}

export const recordMsg = (height: number, txid: string, rawTx: string): Msg => ({ type: 'anchor/record', value: { height, txid, rawTx } });

/**
 * The fee the builder must charge (docs/anchor.md §3): rate × the vsize the transaction would have if
 * every signature were 71 bytes with its sighash byte. About 1 in 128 low-R signatures is a byte
 * shorter; such a transaction is measured smaller (python-bitcoinlib's vsize) but keeps that fee.
 */
export function expectedAnchorFee(rawTx: string, weight: number, feeRate: number): number {
  const shortBy = parseBitcoinTx(rawTx).inputs.reduce((sum, input) => sum + (71 - input.witness[0]!.length / 2), 0);
  return feeRate * Math.ceil((weight + shortBy) / 4);
}

// ── Bitcoin blocks ──

const sha256d = (b: Buffer) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const rev = (hex: string) => Buffer.from(hex, 'hex').reverse().toString('hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b.toString('hex');
};

export const REGTEST_BITS = 0x207fffff;

/**
 * An 80-byte header over `txids` whose hash meets the target of `bits` (ground by nonce; regtest
 * needs about two tries). With `failPow`, a nonce whose hash is above the target instead.
 */
export function mineHeader(txids: string[], options: { time?: number; bits?: number; prev?: string; failPow?: boolean } = {}): { header: string; hash: string; merkleRoot: string } {
  const bits = options.bits ?? REGTEST_BITS;
  const exponent = bits >>> 24;
  const target = BigInt(bits & 0x7fffff) << BigInt(8 * (exponent - 3));
  const root = merkleRoot(txids);
  for (let nonce = 0; ; nonce++) {
    const header = `20000000${rev(options.prev ?? '00'.repeat(32))}${rev(root)}${u32(options.time ?? 1_780_000_000)}${u32(bits)}${u32(nonce)}`;
    const hash = rev(sha256d(Buffer.from(header, 'hex')).toString('hex'));
    if ((BigInt(`0x${hash}`) <= target) !== Boolean(options.failPow)) return { header, hash, merkleRoot: root };
  }
}

/** A block of `size` transactions with `txid` at `index`; the others are made up. */
export function blockWith(txid: string, index = 1, size = 5, options: { time?: number; failPow?: boolean } = {}) {
  const txids = Array.from({ length: size }, (_, i) => (i === index ? txid : createHash('sha256').update(`other-${i}-${txid}`).digest('hex')));
  const mined = mineHeader(txids, options);
  return { ...mined, txids, branch: { index, txCount: size, siblings: electrumProof(txids, index) } };
}

export const confirmMsg = (height: number, block: { header: string; branch: unknown }, blockHeight = 800_000, extra: Record<string, unknown> = {}): Msg => ({
  type: 'anchor/confirm',
  value: { height, blockHeader: block.header, blockHeight, branch: block.branch, ...extra },
});

/** A legacy transaction with the given output scripts (hex), one made-up input: for shapes the wallet never builds. */
export function rawTxWithOutputs(scripts: string[], tag = 'x'): string {
  const prev = createHash('sha256').update(`prev-${tag}`).digest('hex');
  const outs = scripts.map((s) => `${'00'.repeat(8)}${(s.length / 2).toString(16).padStart(2, '0')}${s}`).join('');
  return `02000000` + `01${prev}00000000` + `0151` + `ffffffff` + `${scripts.length.toString(16).padStart(2, '0')}${outs}` + `00000000`;
}

/**
 * A node home for the service tests: empty blocks every 100 ms, genesis with the anchor module at
 * interval `k` on regtest and an `anchor` key admitted as anchor-operator, the wallet seed in the
 * keyring, and `anchorJson` as HOME/anchor.json.
 */
export function prepareAnchorHome(k: number, anchorJson: Record<string, unknown>): { home: string; operator: string } {
  const { home } = makeHome();
  const cfgPath = paths(home).config;
  const nodeConfig = JSON.parse(readFileSync(cfgPath, 'utf8'));
  nodeConfig.consensus.emptyBlockIntervalMs = 100;
  writeFileSync(cfgPath, JSON.stringify(nodeConfig, null, 2));
  const keyring = openKeyring(home, 'test');
  const operator = keyring.add('anchor').address;
  ensureWalletSeed(keyring, 'anchor-seed');
  const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
  genesis.modules.anchor = { checkpointInterval: k, network: 'regtest' };
  genesis.accounts.push({ address: operator, roles: ['anchor-operator'] });
  writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
  writeFileSync(join(home, 'anchor.json'), JSON.stringify(anchorJson, null, 2));
  return { home, operator };
}

export async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
