import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  checkpointDigest,
  checkpointPayload,
  encodeCheckpointPayload,
  EMPTY_INTERVAL_ROOT,
  intervalRoot,
  parseBitcoinTx,
  verifyCoverage,
} from '../../src/bitcoin/index.js';
import { opReturnScript } from '../../src/bitcoin/service.js';
import { anchor } from '../../src/modules/anchor/index.js';
import { getAnchor, getCheckpoint } from '../../src/modules/anchor/state.js';
import { verifyCheckpointAnchor } from '../../src/modules/anchor/verify.js';
import { toHex } from '../../src/util/bytes.js';
import type { TestChain } from '../helpers/chain.js';
import { ok, rejects } from '../energy/helpers.js';
import {
  anchorChain,
  anchorTx,
  anchorTxFor,
  blockWith,
  checkpointAt,
  confirmMsg,
  fp,
  fpReading,
  K,
  meterKey,
  op,
  outsider,
  rawTxWithOutputs,
  recordMsg,
  registerMeter,
} from './helpers.js';

/** Runs empty blocks until the committed height is `height`. */
function advanceTo(chain: TestChain, height: number): void {
  while (chain.app.height < height) chain.block([]);
}

/** A chain whose checkpoint at K is taken (committed height K + 1), with the meter registered. */
function chainWithCheckpoint(): TestChain {
  const chain = anchorChain();
  ok(chain, chain.operator, registerMeter);
  advanceTo(chain, K + 1);
  return chain;
}

/** Anchor records, their count and the recorded-status index (checkpoints taken meanwhile are a legitimate change). */
const anchorState = (chain: TestChain) => JSON.stringify([chain.store.scan('anchor/anchor'), chain.store.scan('anchor/status/recorded/')]);

/** `rejects` in a block that takes no checkpoint (its end-of-block writes would be a legitimate change). */
function refused(chain: TestChain, from: Parameters<typeof rejects>[1], msgs: Parameters<typeof rejects>[2], code: string): void {
  if (chain.app.height % K === 0) chain.block([]);
  rejects(chain, from, msgs, code);
}

describe('checkpoints', () => {
  it('are taken every K blocks from the previous block hash and the state root after it; zero interval root without fingerprints', () => {
    const chain = anchorChain();
    advanceTo(chain, 3 * K + 1);
    for (const h of [K, 2 * K, 3 * K]) {
      const c = getCheckpoint(chain.store, h)!;
      const block = chain.storage.getBlock(h)!;
      expect(c.blockHash).toBe(block.hash);
      expect(c.stateRoot).toBe(block.block.header.stateRoot);
      expect(c.intervalRoot).toBe(EMPTY_INTERVAL_ROOT);
      expect(c.itemCount).toBe(0);
      expect(c.takenAt).toBe(h + 1);
      expect(c.digest).toBe(checkpointDigest({ chainId: chain.chainId, height: h, blockHash: block.hash, stateRoot: block.block.header.stateRoot, intervalRoot: EMPTY_INTERVAL_ROOT }));
    }
    for (const h of [1, 2, K + 1, 2 * K - 1]) expect(getCheckpoint(chain.store, h)).toBeUndefined();
    const status = chain.query(anchor, 'anchorStatus');
    expect(status).toMatchObject({ params: { checkpointInterval: K, network: 'regtest' }, anchors: 0, latest: { height: 3 * K, status: 'pending' }, nextCheckpointHeight: 4 * K });
    expect(chain.query(anchor, 'listCheckpoints', {}, { status: 'pending' }).checkpoints.map((c: { height: number }) => c.height)).toEqual([K, 2 * K, 3 * K]);
  });

  it('interval roots commit to the fingerprints of (previous checkpoint, H] in commit order; inclusion paths lead to them', () => {
    const chain = anchorChain();
    ok(chain, chain.operator, registerMeter); // block 1
    ok(chain, meterKey, fpReading(chain, fp('a'))); // block 2
    ok(chain, meterKey, fpReading(chain, fp('b'))); // block 3 = K
    ok(chain, meterKey, fpReading(chain, fp('c'))); // block 4: takes checkpoint 3; c belongs to the next one
    // the status counts what the latest checkpoint covers from the items' sequence (a and b), not by reading them
    expect(chain.query(anchor, 'anchorStatus')).toMatchObject({ itemsCollected: 3, pendingItems: 1 });
    advanceTo(chain, 2 * K + 1);
    expect(chain.query(anchor, 'anchorStatus')).toMatchObject({ itemsCollected: 3, pendingItems: 0 });
    const first = getCheckpoint(chain.store, K)!;
    expect(first.itemCount).toBe(2);
    expect(first.intervalRoot).toBe(intervalRoot([fp('a'), fp('b')]));
    const second = getCheckpoint(chain.store, 2 * K)!;
    expect(second).toMatchObject({ fromHeight: K + 1, itemCount: 1, intervalRoot: intervalRoot([fp('c')]) });
    for (const [item, height] of [[fp('a'), K], [fp('b'), K], [fp('c'), 2 * K]] as const) {
      const inc = chain.query(anchor, 'anchorInclusion', { item });
      expect(inc.checkpoint.height).toBe(height);
      expect(verifyCoverage(item, { checkpoint: checkpointAt(chain, height), path: inc.path })).toBe(getCheckpoint(chain.store, height)!.digest);
    }
    const items = chain.query(anchor, 'checkpointItems', { height: K }, { limit: '1' });
    expect(items.items.map((i: { item: string }) => i.item)).toEqual([fp('a')]);
    expect(chain.query(anchor, 'checkpointItems', { height: K }, { limit: '1', cursor: items.next }).items.map((i: { item: string }) => i.item)).toEqual([fp('b')]);
    ok(chain, meterKey, fpReading(chain, fp('d')));
    expect(() => chain.query(anchor, 'anchorInclusion', { item: fp('d') })).toThrow(expect.objectContaining({ code: 'ANCHOR_ITEM_NOT_CHECKPOINTED' }));
    expect(() => chain.query(anchor, 'anchorInclusion', { item: fp('never') })).toThrow(expect.objectContaining({ code: 'ANCHOR_ITEM_NOT_FOUND' }));
  });

  it('a governed change of K and network takes effect at its height; intervals stay contiguous', () => {
    const chain = anchorChain({ checkpointInterval: 4, network: 'mainnet' });
    ok(chain, chain.operator, registerMeter);
    advanceTo(chain, 5); // checkpoint 4 taken
    const action = { kind: 'set-params', module: 'anchor', params: { checkpointInterval: 3, network: 'regtest' }, height: 8 };
    ok(chain, chain.operator, { type: 'registry/propose', value: { id: 'anchor-regtest', action } }); // block 6
    ok(chain, meterKey, fpReading(chain, fp('x'))); // block 7, still K = 4
    advanceTo(chain, 10);
    expect(chain.query(anchor, 'anchorStatus').params).toEqual({ checkpointInterval: 3, network: 'regtest' });
    expect(getCheckpoint(chain.store, 8)).toBeUndefined();
    expect(getCheckpoint(chain.store, 9)).toMatchObject({ fromHeight: 5, itemCount: 1, intervalRoot: intervalRoot([fp('x')]) });
  });

  it('fast-check: for any placement of fingerprints over blocks, every checkpoint root and every inclusion path agree', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: 3 }), { minLength: 1, maxLength: 12 }), (perBlock) => {
        const chain = anchorChain();
        ok(chain, chain.operator, registerMeter);
        const committed: Array<{ item: string; height: number }> = [];
        perBlock.forEach((n, b) => {
          const items = Array.from({ length: n }, (_, i) => fp(`${b}-${i}`));
          chain.block(items.length ? [chain.tx(meterKey, items.map((item) => fpReading(chain, item)))] : []);
          for (const item of items) committed.push({ item, height: chain.app.height });
        });
        advanceTo(chain, Math.ceil((chain.app.height + 1) / K) * K + 1);
        let from = 1;
        for (let h = K; h < chain.app.height; h += K) {
          const expected = committed.filter((c) => c.height >= from && c.height <= h).map((c) => c.item);
          expect(getCheckpoint(chain.store, h)!.intervalRoot).toBe(intervalRoot(expected));
          from = h + 1;
        }
        for (const { item } of committed) {
          const inc = chain.query(anchor, 'anchorInclusion', { item });
          verifyCoverage(item, { checkpoint: checkpointAt(chain, inc.checkpoint.height), path: inc.path });
        }
      }),
      { numRuns: 12 },
    );
  });
});

describe('anchor/record and anchor/confirm', () => {
  it('records the transaction whose OP_RETURN is the checkpoint, then its block; the verification report passes', () => {
    const chain = chainWithCheckpoint();
    const tx = anchorTxFor(chain, K);
    ok(chain, op, recordMsg(K, tx.txid, tx.rawHex));
    expect(getAnchor(chain.store, K)).toMatchObject({ txid: tx.txid, wtxid: tx.wtxid, outputIndex: 0, sequence: 0, recordedBy: op.address });
    expect(chain.query(anchor, 'listCheckpoints', {}, { status: 'recorded' }).checkpoints.map((c: { height: number }) => c.height)).toEqual([K]);
    expect(chain.query(anchor, 'anchorVerification', { height: K })).toMatchObject({ ok: false, status: 'recorded', failure: { code: 'ANCHOR_NOT_CONFIRMED', check: 'inclusion' } });
    const block = blockWith(tx.txid, 2, 7, { time: 1_781_000_000 });
    ok(chain, op, confirmMsg(K, block, 900_001));
    expect(getAnchor(chain.store, K)!.confirmation).toMatchObject({ blockHash: block.hash, blockHeight: 900_001, blockTime: 1_781_000_000, merkleRoot: block.merkleRoot });
    const report = chain.query(anchor, 'anchorVerification', { height: K });
    expect(report).toMatchObject({ ok: true, status: 'confirmed', txid: tx.txid, anchoredIn: { blockHeight: 900_001, blockHash: block.hash, time: 1_781_000_000 } });
    expect(report.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok])).toEqual([
      ['checkpoint', true],
      ['anchor', true],
      ['transaction', true],
      ['op_return', true],
      ['inclusion', true],
      ['proof_of_work', true],
    ]);
    expect(chain.query(anchor, 'listCheckpoints', {}, { status: 'recorded' }).checkpoints).toEqual([]);
    expect(chain.query(anchor, 'anchorStatus').anchors).toBe(1);
  });

  it('rejects every anchor/record rule with its own code and leaves the state as it was', () => {
    const chain = chainWithCheckpoint();
    advanceTo(chain, 2 * K + 1);
    const good = anchorTxFor(chain, K);
    const other = anchorTxFor(chain, 2 * K);
    const payload = checkpointPayload(checkpointAt(chain, K));
    const withScripts = (scripts: string[], tag: string) => rawTxWithOutputs(scripts, tag);
    const script = (p: Uint8Array) => toHex(opReturnScript(p));
    const txidOf = (raw: string) => parseBitcoinTx(raw).txid;
    const before = anchorState(chain);
    refused(chain, outsider, recordMsg(K, good.txid, good.rawHex), 'ANCHOR_NOT_OPERATOR');
    refused(chain, op, recordMsg(K + 1, good.txid, good.rawHex), 'ANCHOR_CHECKPOINT_NOT_FOUND');
    refused(chain, op, recordMsg(K, other.txid, good.rawHex), 'ANCHOR_BTC_TXID_MISMATCH');
    refused(chain, op, recordMsg(K, good.txid, `${good.rawHex}00`), 'ANCHOR_BTC_TX_MALFORMED');
    refused(chain, op, recordMsg(K, other.txid, other.rawHex), 'ANCHOR_PAYLOAD_MISMATCH');
    const none = withScripts(['0014' + '11'.repeat(20)], 'none');
    refused(chain, op, recordMsg(K, txidOf(none), none), 'ANCHOR_BTC_NO_OP_RETURN');
    const two = withScripts([script(payload), script(payload)], 'two');
    refused(chain, op, recordMsg(K, txidOf(two), two), 'ANCHOR_BTC_MULTIPLE_OP_RETURN');
    const nonMinimal = withScripts([`6a4c${payload.length.toString(16)}${toHex(payload)}`], 'pushdata');
    refused(chain, op, recordMsg(K, txidOf(nonMinimal), nonMinimal), 'ANCHOR_BTC_OP_RETURN_MALFORMED');
    const wrongPrefix = Uint8Array.from(payload);
    wrongPrefix[0] = 0x58;
    const prefixed = withScripts([script(wrongPrefix)], 'prefix');
    refused(chain, op, recordMsg(K, txidOf(prefixed), prefixed), 'ANCHOR_PAYLOAD_MALFORMED');
    const v2 = Uint8Array.from(payload);
    v2[4] = 2;
    const versioned = withScripts([script(v2)], 'v2');
    refused(chain, op, recordMsg(K, txidOf(versioned), versioned), 'ANCHOR_PAYLOAD_VERSION_UNSUPPORTED');
    const wrongDigest = withScripts([script(encodeCheckpointPayload({ height: K, digest: 'ab'.repeat(32) }))], 'digest');
    refused(chain, op, recordMsg(K, txidOf(wrongDigest), wrongDigest), 'ANCHOR_PAYLOAD_MISMATCH');
    refused(chain, op, recordMsg(K, good.txid.toUpperCase(), good.rawHex), 'MSG_INVALID');
    refused(chain, op, recordMsg(K, good.txid, good.rawHex.toUpperCase()), 'MSG_INVALID');
    refused(chain, op, recordMsg(K, good.txid, `${good.rawHex}0`), 'MSG_INVALID');
    refused(chain, op, { type: 'anchor/record', value: { height: K, txid: good.txid, rawTx: good.rawHex, extra: 1 } }, 'MSG_INVALID');
    refused(chain, op, recordMsg(0, good.txid, good.rawHex), 'MSG_INVALID');
    // Nothing is partially applied: a valid record followed by a failing message leaves no trace.
    refused(chain, op, [recordMsg(K, good.txid, good.rawHex), recordMsg(2 * K, good.txid, good.rawHex)], 'ANCHOR_PAYLOAD_MISMATCH');
    expect(anchorState(chain)).toBe(before);
    ok(chain, op, recordMsg(K, good.txid, good.rawHex));
    refused(chain, op, recordMsg(K, good.txid, good.rawHex), 'ANCHOR_ALREADY_RECORDED');
  });

  it('rejects every anchor/confirm rule with its own code and leaves the state as it was', () => {
    const chain = chainWithCheckpoint();
    advanceTo(chain, 2 * K + 1);
    const tx = anchorTxFor(chain, K);
    const block = blockWith(tx.txid, 3, 6);
    refused(chain, op, confirmMsg(K, block), 'ANCHOR_NOT_RECORDED');
    ok(chain, op, recordMsg(K, tx.txid, tx.rawHex));
    const before = anchorState(chain);
    const otherBlock = blockWith(anchorTx(new Uint8Array([1])).txid, 3, 6);
    refused(chain, outsider, confirmMsg(K, block), 'ANCHOR_NOT_OPERATOR');
    refused(chain, op, confirmMsg(K + 1, block), 'ANCHOR_CHECKPOINT_NOT_FOUND');
    refused(chain, op, confirmMsg(2 * K, block), 'ANCHOR_NOT_RECORDED');
    refused(chain, op, confirmMsg(K, block, 1, { blockHash: otherBlock.hash }), 'ANCHOR_BTC_BLOCK_HASH_MISMATCH');
    refused(chain, op, confirmMsg(K, { header: otherBlock.header, branch: block.branch }), 'ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
    refused(chain, op, confirmMsg(K, { header: block.header, branch: { ...block.branch, index: 2 } }), 'ANCHOR_BTC_MERKLE_ROOT_MISMATCH');
    refused(chain, op, confirmMsg(K, { header: block.header, branch: { ...block.branch, siblings: block.branch.siblings.slice(1) } }), 'ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    refused(chain, op, confirmMsg(K, { header: block.header, branch: { ...block.branch, index: 6 } }), 'ANCHOR_BTC_MERKLE_BRANCH_INVALID');
    refused(chain, op, confirmMsg(K, { header: block.header.slice(2), branch: block.branch }), 'MSG_INVALID');
    refused(chain, op, confirmMsg(K, { header: block.header, branch: { ...block.branch, txCount: 0 } }), 'MSG_INVALID');
    refused(chain, op, confirmMsg(K, block, -1), 'MSG_INVALID');
    expect(anchorState(chain)).toBe(before);
    ok(chain, op, confirmMsg(K, block));
    refused(chain, op, confirmMsg(K, block), 'ANCHOR_ALREADY_CONFIRMED');
  });

  it('fast-check: a mutated raw transaction is refused with a typed anchor code and changes nothing', () => {
    const chain = chainWithCheckpoint();
    const good = anchorTxFor(chain, K);
    let before = anchorState(chain);
    fc.assert(
      fc.property(fc.nat({ max: good.rawHex.length / 2 - 1 }), fc.integer({ min: 1, max: 255 }), (pos, flip) => {
        const bytes = Buffer.from(good.rawHex, 'hex');
        bytes[pos] = bytes[pos]! ^ flip;
        if (chain.app.height % K === 0) chain.block([]);
        const res = chain.send(op, recordMsg(K, good.txid, bytes.toString('hex')));
        if (res.code === 'OK') {
          // Only a change in the witness keeps the txid (which is what Bitcoin's Merkle tree commits to) and the payload.
          expect(parseBitcoinTx(bytes.toString('hex')).txid).toBe(good.txid);
          before = anchorState(chain);
          return;
        }
        expect(res.code).toMatch(/^ANCHOR_/);
        expect(anchorState(chain)).toBe(before);
      }),
      { numRuns: 40 },
    );
  });
});

describe('verification report', () => {
  it('names the ledger value that differs, a wrong transaction, and a header without the work', () => {
    const chain = chainWithCheckpoint();
    advanceTo(chain, 2 * K + 1);
    const tx = anchorTxFor(chain, K);
    ok(chain, op, recordMsg(K, tx.txid, tx.rawHex));
    const block = blockWith(tx.txid, 1, 4);
    ok(chain, op, confirmMsg(K, block));
    const recorded = getCheckpoint(chain.store, K)!;
    const a = getAnchor(chain.store, K)!;
    const ledger = checkpointAt(chain, K);
    const run = (over: Partial<Parameters<typeof verifyCheckpointAnchor>[0]>) => verifyCheckpointAnchor({ ledger, recorded, anchor: a, network: 'regtest', ...over });
    expect(run({}).ok).toBe(true);
    const tampered = run({ ledger: { ...ledger, stateRoot: 'ee'.repeat(32) } });
    expect(tampered.failure).toMatchObject({ check: 'checkpoint', code: 'ANCHOR_CHECKPOINT_MISMATCH' });
    expect(tampered.failure!.message).toContain('state root');
    expect(run({ ledger: { ...ledger, chainId: 'other' } }).failure?.message).toContain('chain id');
    expect(run({ rawTx: anchorTxFor(chain, 2 * K).rawHex }).failure).toMatchObject({ check: 'transaction', code: 'ANCHOR_BTC_TXID_MISMATCH' });
    const wrongPayload = run({ recorded: { ...recorded }, anchor: { ...a, txid: anchorTxFor(chain, 2 * K).txid, rawTx: anchorTxFor(chain, 2 * K).rawHex } });
    expect(wrongPayload.failure).toMatchObject({ check: 'op_return', code: 'ANCHOR_PAYLOAD_MISMATCH' });
    expect(wrongPayload.checks.find((c) => c.name === 'transaction')?.ok).toBe(true);
    const weak = blockWith(tx.txid, 1, 4, { failPow: true });
    const noWork = run({ anchor: { ...a, confirmation: { ...a.confirmation!, blockHeader: weak.header, blockHash: weak.hash } } });
    expect(noWork.failure).toMatchObject({ check: 'proof_of_work', code: 'ANCHOR_BTC_POW_INVALID' });
    expect(run({ network: 'mainnet' }).failure).toMatchObject({ check: 'proof_of_work', code: 'ANCHOR_BTC_BITS_INVALID' });
    expect(run({ header: { hex: weak.header, source: 'file' } }).failure).toMatchObject({ check: 'inclusion', code: 'ANCHOR_BTC_BLOCK_HASH_MISMATCH' });
  });
});
