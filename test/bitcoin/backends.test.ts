import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Transaction } from '@scure/btc-signer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointPayload, verifyAnchor, type Checkpoint } from '../../src/bitcoin/index.js';
import { AnchorWallet, BitcoinCoreRpcBackend, btcToSats, buildAnchorTx, EsploraBackend, OfflineBackend, type BitcoinBackend } from '../../src/bitcoin/service.js';
import { toHex } from '../../src/util/bytes.js';
import { FakeChain, startFakeBitcoind, startFakeEsplora, type RunningServer } from './fake-bitcoin.js';

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const checkpointAt = (height: number): Checkpoint => ({ chainId: 'gridledger-test', height, blockHash: h(`b${height}`), stateRoot: h(`s${height}`), intervalRoot: h(`i${height}`) });

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    return (err as { code?: string }).code ?? `untyped: ${(err as Error).message}`;
  }
  return 'no error';
}

const wallet = AnchorWallet.fromSeed({ seed: new Uint8Array(createHash('sha256').update('backend test seed').digest()), network: 'regtest' });

/**
 * The anchor service's loop against each HTTP backend: list the sender's UTXOs, build, broadcast,
 * see it unconfirmed, mine, fetch the inclusion, verify everything, swap roles, repeat.
 */
async function anchorLoop(chain: FakeChain, backend: BitcoinBackend, firstSequence: number, rounds: number): Promise<void> {
  for (let n = firstSequence; n < firstSequence + rounds; n++) {
    const { sender, receiver } = wallet.rolesFor(n);
    const utxos = (await backend.listUnspent(sender.address)).filter((u) => u.confirmed);
    expect(utxos.length, `round ${n}: the sender holds the coins`).toBeGreaterThan(0);
    const checkpoint = checkpointAt(3600 * (n + 1));
    const tx = buildAnchorTx({ wallet, sequence: n, utxos, payload: checkpointPayload(checkpoint), feeRate: 2 });
    expect(await backend.broadcast({ height: checkpoint.height, txid: tx.txid, rawHex: tx.rawHex, psbtBase64: tx.psbtBase64 })).toMatchObject({ txid: tx.txid });
    expect(await backend.broadcast({ height: checkpoint.height, txid: tx.txid, rawHex: tx.rawHex })).toMatchObject({ txid: tx.txid }); // idempotent
    expect(await backend.getInclusion(tx.txid)).toBeUndefined();
    expect(await backend.getRawTransaction(tx.txid)).toBe(tx.rawHex);
    const block = chain.mine();
    const inclusion = await backend.getInclusion(tx.txid);
    expect(inclusion).toMatchObject({ blockHash: block.hash, blockHeight: block.height, blockTime: block.time, blockHeader: block.header });
    expect(inclusion!.branch.txCount).toBe(block.txids.length);
    const verified = verifyAnchor({ checkpoint, rawTx: tx.rawHex, txid: tx.txid, ...inclusion! }, { network: 'regtest' });
    expect(verified.payload.height).toBe(checkpoint.height);
    expect(await backend.getBlockHeader(block.hash)).toBe(block.header);
    // The coins moved to the receiver, minus the fee; the sender is empty.
    expect((await backend.listUnspent(receiver.address)).map((u) => u.txid)).toContain(tx.txid);
    expect(await backend.listUnspent(sender.address)).toEqual([]);
    expect(await backend.broadcast({ height: checkpoint.height, txid: tx.txid, rawHex: tx.rawHex })).toMatchObject({ txid: tx.txid }); // already mined: still fine
  }
}

describe('Bitcoin Core JSON-RPC backend against a local stand-in', () => {
  const chain = new FakeChain();
  let server: RunningServer;
  let rpc: BitcoinCoreRpcBackend;
  beforeAll(async () => {
    server = await startFakeBitcoind(chain, 'alice:secret');
    rpc = new BitcoinCoreRpcBackend({ url: server.url, username: 'alice', password: 'secret', timeoutMs: 5000 });
    chain.fund(wallet.address(0).address, 100_000n);
    chain.fund(wallet.address(0).address, 2_345n);
  });
  afterAll(() => server.close());

  it('anchors three times with sender and receiver swapping, and every anchor verifies', async () => {
    await anchorLoop(chain, rpc, 0, 3);
    const left = await rpc.listUnspent(wallet.rolesFor(3).sender.address);
    expect(left).toHaveLength(1);
    expect(left[0]!.value).toBeLessThan(102_345n);
    expect(left[0]!.value).toBeGreaterThan(100_000n);
  });

  it('maps refusals and failures to typed errors', async () => {
    expect(await codeOf(rpc.broadcast({ height: 1, txid: h('x'), rawHex: 'deadbeef' }))).toBe('ANCHOR_BACKEND_REJECTED');
    expect(await rpc.getRawTransaction(h('unknown'))).toBeUndefined();
    expect(await rpc.getInclusion(h('unknown'))).toBeUndefined();
    const wrongPassword = new BitcoinCoreRpcBackend({ url: server.url, username: 'alice', password: 'nope' });
    expect(await codeOf(wrongPassword.getBlockHeader(chain.blocks[0]!.hash))).toBe('ANCHOR_BACKEND_REJECTED');
    expect(await codeOf(rpc.getBlockHeader(h('no such block')))).toBe('ANCHOR_BACKEND_REJECTED');
    const down = new BitcoinCoreRpcBackend({ url: 'http://127.0.0.1:9/', username: 'a', password: 'b', timeoutMs: 2000 });
    expect(await codeOf(down.getBlockHeader(chain.blocks[0]!.hash))).toBe('ANCHOR_BACKEND_UNREACHABLE');
  });

  it('reads credentials from a cookie file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gl-cookie-'));
    writeFileSync(join(dir, '.cookie'), 'alice:secret\n');
    const viaCookie = new BitcoinCoreRpcBackend({ url: server.url, cookieFile: join(dir, '.cookie') });
    expect(await viaCookie.getBlockHeader(chain.blocks[0]!.hash)).toBe(chain.blocks[0]!.header);
  });

  it('refuses a node that serves a block whose transaction list does not match its header', async () => {
    const block = chain.blocks[chain.blocks.length - 1]!;
    const ours = block.txids[2]!;
    server.tamper = (method, result) => (method === 'getblock' ? { ...(result as object), tx: [...block.txids, h('extra')] } : result);
    try {
      expect(await codeOf(rpc.getInclusion(ours))).toBe('ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
    } finally {
      server.tamper = undefined;
    }
  });

  it('converts BTC amounts to satoshis exactly', () => {
    expect(btcToSats(0.00002345, 'x')).toBe(2345n);
    expect(btcToSats(20_999_999.9769, 'x')).toBe(2_099_999_997_690_000n);
    expect(btcToSats(0.1 + 0.2, 'x')).toBe(30_000_000n);
  });
});

describe('Esplora REST backend against a local stand-in', () => {
  const chain = new FakeChain();
  let server: RunningServer;
  let esplora: EsploraBackend;
  beforeAll(async () => {
    server = await startFakeEsplora(chain);
    esplora = new EsploraBackend({ baseUrl: `${server.url}/`, timeoutMs: 5000 });
    chain.fund(wallet.address(1).address, 60_000n);
  });
  afterAll(() => server.close());

  it('anchors three times starting from the second address, and every anchor verifies', async () => {
    await anchorLoop(chain, esplora, 1, 3);
  });

  it('lists an output still in the mempool as unconfirmed', async () => {
    const other = AnchorWallet.fromSeed({ seed: new Uint8Array(32).fill(9), network: 'regtest' });
    chain.fund(other.address(0).address, 5_000n);
    const utxos = await esplora.listUnspent(other.address(0).address);
    expect(utxos.map((u) => u.confirmed)).toEqual([true]);
    const tx = buildAnchorTx({ wallet: other, sequence: 0, utxos, payload: checkpointPayload(checkpointAt(1)), feeRate: 1 });
    await esplora.broadcast({ height: 1, txid: tx.txid, rawHex: tx.rawHex });
    expect(await esplora.listUnspent(other.address(1).address)).toEqual([{ txid: tx.txid, vout: 1, value: tx.outputs[1]!.value, confirmed: false }]);
    chain.mine();
  });

  it('maps refusals and malformed answers to typed errors', async () => {
    expect(await codeOf(esplora.broadcast({ height: 1, txid: h('x'), rawHex: 'deadbeef' }))).toBe('ANCHOR_BACKEND_REJECTED');
    expect(await esplora.getInclusion(h('unknown'))).toBeUndefined();
    expect(await esplora.getRawTransaction(h('unknown'))).toBeUndefined();
    const block = chain.blocks[chain.blocks.length - 1]!;
    server.tamper = (path, answer) => (path.endsWith('/header') ? 'not hex' : answer);
    expect(await codeOf(esplora.getBlockHeader(block.hash))).toBe('ANCHOR_BACKEND_BAD_RESPONSE');
    // A proof with the wrong position for our transaction must not pass as an inclusion.
    const anchored = chain.blocks.find((b) => b.txids.length > 4)!;
    server.tamper = (path, answer) => (path.endsWith('/merkle-proof') ? { ...(answer as object), pos: 3 } : answer);
    expect(await codeOf(esplora.getInclusion(anchored.txids[2]!))).toMatch(/^ANCHOR_BTC_MERKLE_(ROOT_MISMATCH|BRANCH_INVALID)$/);
    server.tamper = (path, answer) => (path.endsWith('/merkle-proof') ? { ...(answer as object), merkle: [] } : answer);
    expect(await codeOf(esplora.getInclusion(anchored.txids[2]!))).toBe('ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    server.tamper = undefined;
    const down = new EsploraBackend({ baseUrl: 'http://127.0.0.1:9', timeoutMs: 2000 });
    expect(await codeOf(down.getBlockHeader(block.hash))).toBe('ANCHOR_BACKEND_UNREACHABLE');
  });
});

describe('offline backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gl-offline-'));
  const offline = new OfflineBackend({ dir: join(dir, 'anchors') });
  const utxos = [{ txid: h('offline funding'), vout: 0, value: 50_000n }];
  const checkpoint = checkpointAt(3600);
  const tx = buildAnchorTx({ wallet, sequence: 0, utxos, payload: checkpointPayload(checkpoint), feeRate: 1 });

  it('writes <height>-<txid>.hex and .psbt; the files hold the transaction', async () => {
    const result = await offline.broadcast({ height: 3600, txid: tx.txid, rawHex: tx.rawHex, psbtBase64: tx.psbtBase64 });
    expect(readdirSync(join(dir, 'anchors')).sort()).toEqual([`3600-${tx.txid}.hex`, `3600-${tx.txid}.psbt`]);
    expect(result.locations).toEqual([join(dir, 'anchors', `3600-${tx.txid}.hex`), join(dir, 'anchors', `3600-${tx.txid}.psbt`)]);
    expect(readFileSync(result.locations[0]!, 'utf8').trim()).toBe(tx.rawHex);
    const psbt = Transaction.fromPSBT(Buffer.from(readFileSync(result.locations[1]!, 'utf8').trim(), 'base64'), { allowUnknownOutputs: true });
    expect(toHex(psbt.extract())).toBe(tx.rawHex);
  });

  it('re-writing the same transaction is fine; different content under the name, or a wrong txid, is refused', async () => {
    await offline.broadcast({ height: 3600, txid: tx.txid, rawHex: tx.rawHex, psbtBase64: tx.psbtBase64 });
    expect(await codeOf(offline.broadcast({ height: 3600, txid: tx.txid, rawHex: tx.rawHex, psbtBase64: 'cHNidP8=' }))).toBe('ANCHOR_OFFLINE_WRITE_FAILED');
    expect(await codeOf(offline.broadcast({ height: 3600, txid: h('other'), rawHex: tx.rawHex }))).toBe('ANCHOR_BTC_TXID_MISMATCH');
    expect(await codeOf(offline.broadcast({ height: 3600, txid: '../../etc/passwd', rawHex: tx.rawHex }))).toBe('ANCHOR_BTC_TXID_MISMATCH');
  });

  it('cannot query the network', async () => {
    for (const p of [offline.listUnspent('x'), offline.getRawTransaction(tx.txid), offline.getInclusion(tx.txid), offline.getBlockHeader(h('b'))]) {
      expect(await codeOf(p)).toBe('ANCHOR_BACKEND_OFFLINE');
    }
  });
});
