import fc from 'fast-check';
import { blockHash, blockSchema, type Block, type Commit } from '../../../src/codec/block.js';
import { decodeTx, signedTxJson, txHash, type SignedTx } from '../../../src/codec/tx.js';
import { proposalSignBytes, voteSignBytes, type Proposal, type UnsignedVote, type Vote } from '../../../src/consensus/index.js';
import type { LedgerNode } from '../../../src/ledger/ledger.js';
import { Channel, type ChannelId } from '../../../src/p2p/index.js';
import type { ConsensusDriver } from '../../../src/runtime/driver.js';
import { BlockSyncReactor } from '../../../src/runtime/reactors/blocksync.js';
import { ConsensusReactor } from '../../../src/runtime/reactors/consensus.js';
import { MempoolReactor } from '../../../src/runtime/reactors/mempool.js';
import type { Reactor, ReactorLink } from '../../../src/runtime/reactors/wire.js';
import { syncResponseMessage } from '../../../src/sync/blocksync.js';
import { toHex } from '../../../src/util/bytes.js';
import { canonicalJson } from '../../../src/util/canonical.js';
import { codeOf, expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { mutatedBytes, mutatedJson, oddValue, parseJson, utf8Bytes } from '../lib/mutate.js';
import { createWorld, declaredCodes, WORLD_CHAIN, type World } from '../lib/world.js';

/**
 * Decoders of the ledger node, fed mutated copies of real, signed data from a small chain:
 *  - `tx`: what the API and gossip hand to the node (JSON values) → decodeTx and LedgerNode.submitTx;
 *  - `block`: blocks with commits through the block-sync schema and LedgerNode.applySyncedBlock, and
 *    proposals through LedgerNode.validateBlock;
 *  - `reactors`: any JSON value on any consensus, transaction or block-sync channel.
 * Every rejection is a declared error code; anything accepted is (canonically) the genuine data.
 */

const canon = (v: unknown): string | undefined => {
  try {
    return canonicalJson(v);
  } catch {
    return undefined;
  }
};

/** A JSON value from a mutated corpus (bytes or structure) or an odd value. */
function jsonInputs(corpus: readonly unknown[]): fc.Arbitrary<{ value: unknown } | undefined> {
  return fc.oneof(
    { weight: 4, arbitrary: mutatedJson(corpus, 3).map((value) => ({ value })) },
    { weight: 3, arbitrary: mutatedBytes(corpus.map(utf8Bytes), 4).map(parseJson) },
    { weight: 1, arbitrary: oddValue.map((value) => ({ value })) },
  );
}

// ───────────────────────────── transactions ─────────────────────────────

export async function txTarget(): Promise<FuzzTarget<{ value: unknown } | undefined>> {
  const world = createWorld(1);
  const codes = await declaredCodes();
  const genuine = new Map(world.txs.map((tx) => [txHash(tx.body), signedTxJson(tx)]));
  return {
    name: 'tx',
    description: 'signed transactions (JSON) through decodeTx and the node admission (submitTx)',
    arbitrary: jsonInputs(world.txs),
    check(input) {
      if (!input) return 'not-json';
      let decoded: SignedTx | undefined;
      try {
        decoded = decodeTx(input.value);
      } catch (err) {
        expectThat(codeOf(err, codes) === 'TX_MALFORMED', 'decodeTx refused with a code other than TX_MALFORMED');
      }
      let hash: string;
      try {
        hash = world.leader.submitTx(input.value, 'fuzz');
      } catch (err) {
        return codeOf(err, codes);
      }
      expectThat(decoded !== undefined, 'the node admitted a transaction decodeTx refuses');
      const original = genuine.get(hash);
      if (original === undefined || signedTxJson(decoded!) !== original) fail(`admitted a transaction that is not a genuine signed one: ${JSON.stringify(input.value).slice(0, 500)}`);
      world.leader.mempool.remove(hash); // keep the world as it was
      return 'ok';
    },
    close: () => world.close(),
  };
}

// ───────────────────────────── blocks ─────────────────────────────

interface BlockInput {
  kind: 'sync' | 'proposal';
  json: { value: unknown } | undefined;
}

export async function blockTarget(): Promise<FuzzTarget<BlockInput>> {
  const world = createWorld(3);
  const codes = await declaredCodes();
  const last = world.blocks[world.blocks.length - 1]!;
  let follower = world.follower();
  for (const tx of world.txs) world.leader.submitTx(tx);
  const proposal = world.leader.buildExecutedBlock({ time: last.block.header.time + 1000, proposer: world.validator.address, lastCommit: last.commit, evidence: [] });
  const syncCorpus = [{ block: last.block, commit: last.commit }];
  return {
    name: 'block',
    description: 'blocks with commits through the block-sync schema and applySyncedBlock; proposals through validateBlock',
    arbitrary: fc.oneof(
      jsonInputs(syncCorpus).map((json) => ({ kind: 'sync' as const, json })),
      jsonInputs([proposal.block]).map((json) => ({ kind: 'proposal' as const, json })),
    ),
    check(input) {
      if (!input.json) return 'not-json';
      if (input.kind === 'proposal') {
        const parsed = blockSchema.safeParse(input.json.value);
        if (!parsed.success) return 'schema';
        const block = parsed.data as Block;
        const v = world.leader.validateBlock(world.leader.height + 1, block);
        if (!v.ok) return 'invalid-proposal';
        expectThat(v.blockHash === blockHash(block.header), 'validateBlock answered another hash than the header\'s');
        // Re-execution fixes every header field but those the consensus engine checks itself (from `info`).
        const engineChecked = (b: Block) => canon({ ...b.header, time: 0, proposer: '', lastCommitHash: '', evidenceHash: '' });
        expectThat(engineChecked(block) === engineChecked(proposal.block), 'a proposal whose re-executed fields differ validated');
        expectThat(v.info.time === block.header.time && v.info.proposer === block.header.proposer && v.info.lastCommit === block.lastCommit, 'validateBlock reported other header fields than the block has');
        return v.blockHash === proposal.hash ? 'valid-proposal' : 'valid-for-ledger-only';
      }
      const parsed = syncResponseMessage.safeParse({ blocks: [input.json.value] });
      if (!parsed.success) return 'schema';
      const entry = parsed.data.blocks[0]! as { block: Block; commit: Commit };
      try {
        follower.applySyncedBlock(entry.block, entry.commit);
      } catch (err) {
        return codeOf(err, codes);
      }
      // Applied: what is stored must be the genuine block (a mutated body may only ride on the genuine header).
      const stored = follower.getBlock(last.block.header.height)!;
      expectThat(canon(stored.block) === canon(last.block) && blockHash(entry.block.header) === last.hash, 'block sync stored a block that is not the genuine one');
      follower.close();
      follower = world.follower();
      return 'applied';
    },
    close: () => {
      follower.close();
      world.close();
    },
  };
}

// ───────────────────────────── reactors (the node's wire input) ─────────────────────────────

function signVote(world: World, fields: Omit<UnsignedVote, 'chainId' | 'validator'>): Vote {
  const unsigned: UnsignedVote = { chainId: WORLD_CHAIN, validator: world.validator.address, ...fields };
  return { ...unsigned, signature: toHex(world.validator.signer.sign(voteSignBytes(unsigned))) };
}

interface WireInput {
  channel: ChannelId;
  json: { value: unknown } | undefined;
}

export async function reactorsTarget(): Promise<FuzzTarget<WireInput>> {
  const world = createWorld(3);
  const codes = await declaredCodes();
  const node: LedgerNode = world.leader;
  const last = world.blocks[world.blocks.length - 1]!;
  const penalties: string[] = [];
  const forwarded: string[] = [];
  const link: ReactorLink = {
    send: () => undefined,
    broadcast: () => undefined,
    penalize: (_peer, reason) => void penalties.push(reason),
    connectedPeers: () => ['peer'],
  };
  const driver = {
    onPeerMessage: (e: { type: string }) => void forwarded.push(e.type),
    handle: (e: { type: string }) => (forwarded.push(e.type), true),
  } as unknown as ConsensusDriver<Block>;
  const consensus = new ConsensusReactor(link, driver, () => undefined, () => 1_000_000, (raw) => node.knownTx(raw), {
    txWithHash: (hash) => node.txWithHash(hash),
    later: (fn) => fn(),
  });
  const sync = new BlockSyncReactor(link, node, { maxFrameBytes: 8 << 20, onApplied: () => undefined });
  const mempool = new MempoolReactor(link, node, 4 << 20);
  let unhandled: unknown;
  const onUnhandled = (err: unknown) => void (unhandled ??= err);
  process.on('unhandledRejection', onUnhandled);

  for (const tx of world.txs) node.submitTx(tx);
  const next = node.buildExecutedBlock({ time: last.block.header.time + 1000, proposer: world.validator.address, lastCommit: last.commit, evidence: [] });
  const unsignedProposal = { chainId: WORLD_CHAIN, height: next.block.header.height, round: 0, polRound: -1, blockHash: next.hash, timestamp: 1, proposer: world.validator.address };
  const proposal: Proposal = { ...unsignedProposal, signature: toHex(world.validator.signer.sign(proposalSignBytes(unsignedProposal))) };
  // This node sent the proposal, so it answers fill requests for its block (ADR 0021).
  consensus.broadcastProposal(proposal, next.block);
  const hashes = next.block.txs.map((tx) => txHash(tx.body));
  const voteA = signVote(world, { type: 'prevote', height: 4, round: 0, blockHash: 'aa'.repeat(32), timestamp: 5 });
  const voteB = signVote(world, { type: 'prevote', height: 4, round: 0, blockHash: 'bb'.repeat(32), timestamp: 5 });
  const byChannel: Array<[ChannelId, unknown[]]> = [
    // Whole and compact proposals, fill requests and replies (ADR 0021).
    [
      Channel.proposal,
      [
        { proposal, block: next.block },
        { proposal, block: { ...next.block, txs: hashes } },
        { fill: { blockHash: next.hash, indexes: hashes.map((_, i) => i) } },
        { filled: { blockHash: next.hash, indexes: [0], txs: next.block.txs.slice(0, 1) } },
      ],
    ],
    [Channel.vote, [voteA, signVote(world, { type: 'precommit', height: 4, round: 1, blockHash: null, timestamp: 9 })]],
    [Channel.evidence, [{ kind: 'duplicate-vote', voteA, voteB }]],
    [Channel.block, [{ height: 3, hash: last.hash }, { height: 9, hash: 'x' }]],
    [Channel.syncRequest, [{ from: 1, count: 3 }]],
    [Channel.syncResponse, [{ blocks: world.blocks.map(({ block, commit }) => ({ block, commit })) }]],
    // Batches, announcements and requests (ADR 0019) of the world's transactions, as a peer sends them.
    [Channel.tx, [world.txs, { have: world.txs.map((tx) => txHash(tx.body)) }, { want: world.txs.map((tx) => txHash(tx.body)) }]],
  ];
  const reactorOf = (channel: ChannelId): Reactor => (consensus.channels.includes(channel) ? consensus : sync.channels.includes(channel) ? sync : mempool);
  return {
    name: 'reactors',
    description: 'any JSON value on the consensus, transaction and block-sync channels (the node\'s reactors)',
    arbitrary: fc.oneof(...byChannel.map(([channel, corpus]) => jsonInputs(corpus).map((json) => ({ channel, json })))),
    async check(input) {
      if (!input.json) return 'not-json';
      penalties.length = 0;
      forwarded.length = 0;
      reactorOf(input.channel).receive('peer', input.channel, input.json.value, 0);
      if (input.channel === Channel.tx && Array.isArray(input.json.value)) {
        // What the reactor started: every result is a hash or a declared code.
        for (const r of await node.submitTxs(input.json.value, 'peer')) if ('error' in r) codeOf(r.error, codes);
        node.mempool.recheck(() => false);
      }
      if (unhandled) fail(`unhandled rejection: ${unhandled instanceof Error ? unhandled.stack : String(unhandled)}`);
      expectThat(node.height === last.block.header.height, 'the chain moved on a message that cannot move it');
      return `${input.channel}:${penalties.length > 0 ? 'penalised' : forwarded.length > 0 ? 'forwarded' : 'accepted'}`;
    },
    close: () => {
      process.off('unhandledRejection', onUnhandled);
      sync.stop();
      mempool.stop();
      world.close();
    },
  };
}
