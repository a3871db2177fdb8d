import { createHash } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { Signer } from '../src/crypto/ed25519.js';
import { paymentsCore } from '../src/modules/payments/module.js';
import { paymentsRoutes } from '../src/modules/payments/routes.js';
import { signVoucher, verifyVoucher, type Voucher } from '../src/modules/payments/voucher.js';
import { registryCore } from '../src/modules/registry/module.js';
import { openKeyring } from '../src/home/home.js';
import { account, TestChain, type TestAccount } from '../test/helpers/chain.js';
import { benchSigner as sharedBenchSigner, waitCommitted, CommitWatcher, measureSaturation, presignAdmissions, startBenchNetwork, submitBatches } from './foundation.js';

/**
 * Payments benchmark.
 *
 * In process (`benchPayments`): the real app host over SQLite in memory, signed transactions
 * executed and committed in blocks of `batch` (signatures verified in the block, as a validator
 * does). It measures committed transfers/s and, with the same harness, block by block in
 * alternation, the foundation's transaction (registry admissions from the operator), so the ratio
 * holds on a loaded machine; plus the voucher sign and verify rates (one core).
 *
 * Over a network (`benchPaymentsNetwork`): the foundation harness (node processes on loopback,
 * pre-signed transactions over HTTP, commit times from the event stream) on 1 or n validators,
 * admissions and transfers in alternating rounds, both as committed tx/s.
 *
 * `node bin/run-ts.mjs bench/payments.ts [--transfers N] [--network --validators N]` prints JSON.
 */

const ASSET = 'NOK@bench';
const SEED_BALANCE = 1_000_000_000_000n; // 1,000,000 NOK each
const MSGS_PER_TX = 64;

export function rate(count: number, ms: number): number {
  return Math.round(count / (ms / 1000));
}

export function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

/** Executes and commits one block; every transaction must be OK. Returns the time it took (ms). */
export function commitBlock(chain: TestChain, txs: SignedTx[]): number {
  const t0 = performance.now();
  const results = chain.block(txs);
  const ms = performance.now() - t0;
  const bad = results.find((r) => r.code !== 'OK');
  if (bad) throw new Error(`benchmark transaction refused: ${bad.code} ${bad.message}`);
  return ms;
}

/** The foundation's transaction: registry admissions of fresh addresses, signed by the operator in nonce order. */
export function admissionsWorkload(count: number): { chain: TestChain; txs: SignedTx[] } {
  const chain = new TestChain({ modules: [registryCore] });
  // Fresh addresses without key pairs (an address is any 32 bytes hashed; making keys would dominate the setup).
  const address = (i: number) => addressFromPublicKey(createHash('sha256').update(`bench-admit-${i}`).digest());
  const txs: SignedTx[] = [];
  for (let i = 0; i < count; i++) txs.push(chain.tx(chain.operator, [{ type: 'registry/admit', value: { address: address(i), roles: ['consumer'] } }]));
  return { chain, txs };
}

/** Transfers between `senders` funded accounts, round-robin so every block carries many senders, each in nonce order. */
function transfersWorkload(count: number, senders: number): { chain: TestChain; txs: SignedTx[]; payers: TestAccount[] } {
  const people = Array.from({ length: senders }, (_, i) => `bench-payer-${i}`);
  const chain = new TestChain({ modules: [registryCore, paymentsCore], accounts: { 'bench-issuer': ['issuer'], ...Object.fromEntries(people.map((n) => [n, ['consumer']])) } });
  const issuer = account('bench-issuer');
  const payers: TestAccount[] = people.map(account);
  commitBlock(chain, [chain.tx(issuer, [{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } }])]);
  const mints = chunk(payers, MSGS_PER_TX).map((group, g) =>
    chain.tx(
      issuer,
      group.map((p, i): Msg => ({ type: 'payments/mint', value: { asset: ASSET, to: p.address, amount: SEED_BALANCE.toString(), depositRef: `SEED-${g}-${i}` } })),
    ),
  );
  commitBlock(chain, mints);
  const txs: SignedTx[] = [];
  for (let i = 0; i < count; i++) {
    const from = payers[i % senders]!;
    const to = payers[(i + 1 + (i % 7)) % senders]!;
    txs.push(chain.tx(from, [{ type: 'payments/transfer', value: { asset: ASSET, to: to.address, amount: String(1 + (i % 1000)) } }]));
  }
  return { chain, txs, payers };
}

/**
 * Committed admissions/s and transfers/s, measured block by block in alternation so both see the
 * same load on a shared machine (the ratio is what the goal is about).
 */
function interleaved(count: number, senders: number, batch: number): { admissionsPerSec: number; transfersPerSec: number; conserved: boolean } {
  const a = admissionsWorkload(count);
  const t = transfersWorkload(count, senders);
  const aBlocks = chunk(a.txs, batch);
  const tBlocks = chunk(t.txs, batch);
  let aMs = 0;
  let tMs = 0;
  for (let i = 0; i < aBlocks.length; i++) {
    aMs += commitBlock(a.chain, aBlocks[i]!);
    tMs += commitBlock(t.chain, tBlocks[i]!);
  }
  const supply = BigInt(t.chain.store.get<{ supply: string }>(`payments/asset/${ASSET}`)!.supply);
  const sum = t.payers.reduce((s, p) => s + BigInt(t.chain.store.get<{ a: string }>(`payments/bal/${p.address}/${ASSET}`)?.a ?? '0'), 0n);
  a.chain.storage.close();
  t.chain.storage.close();
  return { admissionsPerSec: rate(count, aMs), transfersPerSec: rate(count, tMs), conserved: sum === supply };
}

function voucherRates(count: number): { signPerSec: number; verifyPerSec: number } {
  const buyer = new Signer(new Uint8Array(createHash('sha256').update('gridledger-bench-voucher').digest()));
  const address = addressFromPublicKey(buyer.publicKey);
  const vouchers: Voucher[] = [];
  let t0 = performance.now();
  for (let i = 1; i <= count; i++) vouchers.push(signVoucher(buyer, { chainId: 'bench-chain', channel: 'ch1', amount: String(250_000 * i), wh: 1000 * i, seq: i }));
  const signMs = performance.now() - t0;
  t0 = performance.now();
  let valid = 0;
  for (const v of vouchers) if (verifyVoucher(v, { chainId: 'bench-chain', channel: 'ch1', buyer: address }).ok) valid++;
  const verifyMs = performance.now() - t0;
  if (valid !== count) throw new Error(`${count - valid} vouchers did not verify`);
  return { signPerSec: rate(count, signMs), verifyPerSec: rate(count, verifyMs) };
}

export async function benchPayments(options: { transfers?: number; senders?: number; batch?: number; vouchers?: number } = {}): Promise<Record<string, number | string | boolean>> {
  const transfers = options.transfers ?? 20_000;
  const senders = options.senders ?? 200;
  const batch = options.batch ?? 500;
  const vouchers = options.vouchers ?? 20_000;
  const r = interleaved(transfers, senders, batch);
  const v = voucherRates(vouchers);
  return {
    mode: 'in-process (app host, SQLite in memory, signatures verified in the block)',
    transfers,
    senders,
    batch,
    transfersPerSec: r.transfersPerSec,
    transfersConserved: r.conserved,
    foundationAdmissionsPerSec: r.admissionsPerSec,
    transfersRatioToFoundation: Number((r.transfersPerSec / r.admissionsPerSec).toFixed(3)),
    voucherSignPerSec: v.signPerSec,
    voucherVerifyPerSec: v.verifyPerSec,
    goal: 'committed transfers/s >= 0.9 x foundation committed tx/s of the same run',
  };
}

// ── over the network ──

const benchSigner = (label: string) => sharedBenchSigner('payments', label);

/** Rounds of alternation in the network benchmark. */
const ROUNDS = 4;

export async function benchPaymentsNetwork(options: { validators: number; transfers: number; senders?: number }): Promise<Record<string, number>> {
  const senders = options.senders ?? 200;
  const net = await startBenchNetwork(options.validators);
  const url = net.urls[0]!;
  const watcher = new CommitWatcher();
  try {
    await watcher.start(url);
    const { chainId } = await callRoute(url, coreRoutes.status, {});
    const keyring = openKeyring(net.home, 'test');
    const admin = { signer: keyring.signer('admin'), address: keyring.show('admin').address };
    const issuer = benchSigner('issuer');
    const payers = Array.from({ length: senders }, (_, i) => benchSigner(`payer-${i}`));
    const EXPIRES = 1_000_000;
    let adminNonce = (await callRoute(url, coreRoutes.accountNonce, { params: { address: admin.address } })).next;
    const admits = chunk([issuer, ...payers], MSGS_PER_TX).map((group) =>
      signTx({ chainId, sender: admin.address, nonce: adminNonce++, expiresAtHeight: EXPIRES, msgs: group.map((p) => ({ type: 'registry/admit', value: { address: p.address, roles: p === issuer ? ['issuer'] : ['consumer'] } })), memo: '' }, admin.signer),
    );
    await waitCommitted(url, await submitBatches(url, admits, 100, 1));
    let issuerNonce = 0;
    const issuerTx = (msgs: Msg[]) => signTx({ chainId, sender: issuer.address, nonce: issuerNonce++, expiresAtHeight: EXPIRES, msgs, memo: '' }, issuer.signer);
    const setup = [issuerTx([{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } }])];
    chunk(payers, MSGS_PER_TX).forEach((group, g) => setup.push(issuerTx(group.map((p, i) => ({ type: 'payments/mint', value: { asset: ASSET, to: p.address, amount: SEED_BALANCE.toString(), depositRef: `SEED-${g}-${i}` } })))));
    await waitCommitted(url, await submitBatches(url, setup, 100, 1));

    const admissions = presignAdmissions(net.home, chainId, options.transfers, adminNonce, EXPIRES);

    const nonces = new Array<number>(senders).fill(0);
    const transfers: SignedTx[] = [];
    for (let i = 0; i < options.transfers; i++) {
      const s = i % senders;
      const to = payers[(s + 1 + (i % 7)) % senders]!;
      transfers.push(signTx({ chainId, sender: payers[s]!.address, nonce: nonces[s]!++, expiresAtHeight: EXPIRES, msgs: [{ type: 'payments/transfer', value: { asset: ASSET, to: to.address, amount: String(1 + (i % 1000)) } }], memo: '' }, payers[s]!.signer));
    }
    // Alternate rounds of admissions and transfers so both see the same load on a shared machine.
    let admissionsMs = 0;
    let transfersMs = 0;
    const a = chunk(admissions, Math.ceil(admissions.length / ROUNDS));
    const t = chunk(transfers, Math.ceil(transfers.length / ROUNDS));
    for (let r = 0; r < a.length; r++) {
      admissionsMs += (a[r]!.length / (await measureSaturation(url, a[r]!, watcher))) * 1000;
      transfersMs += (t[r]!.length / (await measureSaturation(url, t[r]!, watcher))) * 1000;
    }
    const admissionsRate = (admissions.length * 1000) / admissionsMs;
    const transfersRate = (transfers.length * 1000) / transfersMs;
    const supply = await callRoute(url, paymentsRoutes.getAsset, { params: { asset: ASSET }, query: { attestations: 1 } });
    if (supply.supply.circulating !== supply.supply.supply) throw new Error('supply and circulating differ after the transfers');
    return {
      validators: options.validators,
      transfers: options.transfers,
      senders,
      admissionsPerSec: Math.round(admissionsRate),
      transfersPerSec: Math.round(transfersRate),
      transfersRatioToFoundation: Number((transfersRate / admissionsRate).toFixed(3)),
    };
  } finally {
    watcher.stop();
    await net.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { transfers: { type: 'string', default: '20000' }, network: { type: 'boolean', default: false }, validators: { type: 'string', default: '1' } } });
  const report = values.network
    ? await benchPaymentsNetwork({ validators: Number(values.validators), transfers: Number(values.transfers) })
    : await benchPayments({ transfers: Number(values.transfers) });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}
