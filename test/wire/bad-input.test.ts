import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { blockHash, type Block, type Commit } from '../../src/codec/block.js';
import { proposalSignBytes, voteSignBytes, type Proposal, type UnsignedVote, type Vote } from '../../src/consensus/index.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { prepareDevnet, type DevnetNode } from '../../src/runtime/devnet.js';
import { loadConfig, loadGenesis, openKeyring, paths } from '../../src/home/home.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { Channel, PeerSwitch, type ChannelId } from '../../src/p2p/index.js';
import { toHex } from '../../src/util/bytes.js';
import { signTx, txHash } from '../../src/codec/tx.js';
import { MAX_GOSSIP_HASHES, UNAUTHORISED_RELAY_ALLOWANCE } from '../../src/runtime/reactors/mempool.js';
import { api, freeBasePort, Rotation, waitFor } from '../devnet/harness.js';

/**
 * Acceptance, "bad input on the wire": node0 of a 2-validator devnet runs in this process; the test
 * is a peer on the wire (first as node1 with node1's own node key, then as further allowed node
 * identities, one per case since a penalised identity stays banned). Each bad message must get the
 * sender disconnected and banned for the right reason, and refused when it reconnects; the node
 * keeps serving (/v1/health), its height and state root do not move, and no P2P handler threw.
 * Matching well-formed messages serve as controls: they are accepted without a penalty.
 */

const CHAIN = 'gridledger-wire-test';
const silent = pino({ level: 'silent' });
const MIB = 1024 * 1024;

let dir: string;
let node0: DevnetNode;
let node1: DevnetNode;
let running: RunningNode;
let node1Key: Signer;
let node1Validator: Signer;
let node0Validator: Signer;
let block1: Block;
let genesisTime: number;
const identities: Signer[] = [];
const bans: Array<{ id: string; reason: string }> = [];
const refusals: Array<{ id: string | undefined; reason: string }> = [];
const peers: PeerSwitch[] = [];

function identity(seed: number): Signer {
  return new Signer(keyPairFromSeed(new Uint8Array(32).fill(seed)).secretKey);
}

let nextIdentity = 0;
function freshIdentity(): Signer {
  const key = identities[nextIdentity++];
  if (!key) throw new Error('out of test identities');
  return key;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridledger-wire-'));
  const basePort = await freeBasePort(2);
  [node0, node1] = prepareDevnet(dir, 2, basePort, CHAIN, { blockTimeMs: 100 }).nodes as [DevnetNode, DevnetNode];
  for (let i = 0; i < 51; i++) identities.push(identity(100 + i));
  // node0 accepts node1 (a persistent peer) and these extra identities, one per case.
  const configPath = paths(node0.home).config;
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.p2p.allowedPeers = identities.map((k) => addressFromPublicKey(k.publicKey));
  config.logLevel = 'silent';
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const keyring1 = openKeyring(node1.home, 'test');
  node1Key = keyring1.signer('node');
  node1Validator = keyring1.signer('validator');
  node0Validator = openKeyring(node0.home, 'test').signer('validator');
  expect(addressFromPublicKey(node1Key.publicKey)).toBe(node1.nodeId);

  // Block 1 as an honest proposer would build it, from a private copy of the chain.
  const genesis = loadGenesis(node1.home);
  genesisTime = genesis.genesisTime;
  const builder = new LedgerNode({ config: loadConfig(node1.home), genesis, dbPath: join(dir, 'builder.db'), validatorSigner: null, modules: MODULE_CORES, logger: silent });
  block1 = builder.buildExecutedBlock({ time: genesisTime, proposer: new Rotation(node1.home).proposer(1, 0), lastCommit: null, evidence: [] }).block;
  builder.close();

  running = await startNode(node0.home, { apiPort: 0, logger: silent });
  const p2p = running.network!.p2p;
  p2p.onPeerBanned((id, reason) => bans.push({ id, reason }));
  p2p.onHandshakeFailed((f) => refusals.push({ id: f.peerId, reason: f.reason }));
}, 60_000);

afterAll(async () => {
  await Promise.all(peers.map((p) => p.stop()));
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

/** A peer on the wire with the given node key, connected to node0. */
async function connect(key: Signer, options: { maxFrameBytes?: number } = {}): Promise<PeerSwitch> {
  const peer = new PeerSwitch({
    chainId: CHAIN,
    nodeKey: key,
    persistentPeers: [{ id: node0.nodeId, host: '127.0.0.1', port: Number(node0.p2p.split(':')[1]) }],
    reconnectBaseMs: 50,
    reconnectMaxMs: 200,
    maxFrameBytes: options.maxFrameBytes ?? 8 * MIB,
  });
  peers.push(peer);
  await peer.start();
  await waitFor(() => peer.peers().some((p) => p.id === node0.nodeId) && running.network!.p2p.peers().some((p) => p.id === peer.id), `${peer.id} connected to node0`, 15_000, 10);
  return peer;
}

async function snapshot() {
  const s = await api(running.url, coreRoutes.status, {});
  return { height: s.height, stateRoot: s.stateRoot, latestBlockHash: s.latestBlockHash };
}

/**
 * Sends one bad message as `key` and checks: the node disconnects and bans the sender for a reason
 * matching `reason`, refuses its reconnection, still answers /v1/health, and its height, state
 * root and latest block are unchanged; no P2P handler threw.
 */
async function expectPenalised(key: Signer, reason: RegExp, send: (peer: PeerSwitch) => void, options: { maxFrameBytes?: number } = {}): Promise<void> {
  const p2p = running.network!.p2p;
  const before = await snapshot();
  const penalties = p2p.metrics().penalties;
  const peer = await connect(key, options);
  const id = peer.id;
  const gone = new Promise<string>((resolve) => peer.onPeerDisconnected((_p, why) => resolve(why)));
  send(peer);
  await gone;
  await waitFor(() => p2p.isBanned(id), `${id} banned`, 15_000, 10);
  expect(bans.filter((b) => b.id === id).map((b) => b.reason)).toEqual([expect.stringMatching(reason)]);
  expect(p2p.metrics().penalties).toBe(penalties + 1);
  expect(p2p.peers().map((p) => p.id)).not.toContain(id);
  // The peer redials (it keeps node0 as a persistent peer): node0 refuses it while banned.
  await waitFor(() => refusals.some((r) => r.id === id && r.reason === 'refused:banned'), `${id} refused on reconnect`, 15_000, 10);
  await peer.stop();

  const health = await api(running.url, coreRoutes.health, {});
  expect(health.ok).toBe(true);
  expect(await snapshot()).toEqual(before);
  expect(p2p.metrics().handlerErrors).toBe(0);
}

/** Sends a well-formed message and checks that node0 handled it without penalising the sender. */
async function expectAccepted(key: Signer, channel: ChannelId, payload: unknown, sendWith?: (peer: PeerSwitch) => void): Promise<PeerSwitch> {
  const p2p = running.network!.p2p;
  const penalties = p2p.metrics().penalties;
  const peer = await connect(key);
  const delivered = p2p.metrics().messagesInByChannel[channel] ?? 0;
  if (sendWith) sendWith(peer);
  else expect(peer.send(node0.nodeId, channel, json(payload))).toBe(true);
  // Handlers run synchronously on delivery, so once counted it has been processed.
  await waitFor(() => (p2p.metrics().messagesInByChannel[channel] ?? 0) > delivered, 'control message delivered', 15_000, 10);
  expect(p2p.isBanned(peer.id)).toBe(false);
  expect(p2p.metrics().penalties).toBe(penalties);
  expect(p2p.peers().map((p) => p.id)).toContain(peer.id);
  expect(p2p.metrics().handlerErrors).toBe(0);
  return peer;
}

function json(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value)));
}

function send(channel: ChannelId, payload: unknown): (peer: PeerSwitch) => void {
  return (peer) => {
    expect(peer.send(node0.nodeId, channel, payload instanceof Uint8Array ? payload : json(payload))).toBe(true);
  };
}

/**
 * Announces a height so that node0 asks this peer for blocks (block sync accepts only what it asked
 * for), then answers node0's first request with `payload`.
 */
function respondToSyncRequest(payload: unknown): (peer: PeerSwitch) => void {
  return (peer) => {
    let answered = false;
    peer.onMessage((_from, channel) => {
      if (channel !== Channel.syncRequest || answered) return;
      answered = true;
      expect(peer.send(node0.nodeId, Channel.syncResponse, json(payload))).toBe(true);
    });
    expect(peer.send(node0.nodeId, Channel.block, json({ height: 5, hash: 'ff'.repeat(32) }))).toBe(true);
  };
}

function signVote(signer: Signer, fields: Partial<UnsignedVote> = {}): Vote {
  const unsigned: UnsignedVote = {
    chainId: CHAIN,
    type: 'prevote',
    height: 1,
    round: 0,
    blockHash: null,
    timestamp: Date.now(),
    validator: addressFromPublicKey(signer.publicKey),
    ...fields,
  };
  return { ...unsigned, signature: toHex(signer.sign(voteSignBytes(unsigned))) };
}

/** A precommit signature for block 1 as it appears in a commit. */
function precommitSig(signer: Signer, blockHash: string, fields: Partial<UnsignedVote> = {}) {
  const vote = signVote(signer, { type: 'precommit', height: 1, round: 0, blockHash, timestamp: genesisTime + 1, ...fields });
  return { validator: vote.validator, timestamp: vote.timestamp, signature: vote.signature };
}

function commitFor(block: Block, signatures: Commit['signatures']): Commit {
  return { height: block.header.height, round: 0, blockHash: blockHash(block.header), signatures };
}

describe.sequential('bad input on the wire to a validator', () => {
  it('node1, with its own node key, is banned for a payload that is not JSON and refused on reconnect', async () => {
    await expectPenalised(node1Key, /not JSON/, send(Channel.vote, new Uint8Array([0xff, 0xfe, 0x7b, 0x00, 0x22])));
  });

  const wrongShapes: Array<[string, ChannelId, unknown, RegExp]> = [
    ['tx: not a batch', Channel.tx, { body: 'x' }, /transaction gossip is not a batch/],
    ['tx: a batch of non-transactions', Channel.tx, [{ body: 1 }, 'x'], /invalid transaction: TX_MALFORMED/],
    ['tx: an announcement of non-hashes', Channel.tx, { have: ['not a hash'] }, /transaction gossip is not a batch, an announcement or a request/],
    ['tx: a request of upper-case hashes', Channel.tx, { want: ['AB'.repeat(32)] }, /transaction gossip is not a batch, an announcement or a request/],
    ['tx: an announcement with an extra field', Channel.tx, { have: [], more: 1 }, /transaction gossip is not a batch, an announcement or a request/],
    ['tx: a request of too many hashes', Channel.tx, { want: Array.from({ length: MAX_GOSSIP_HASHES + 1 }, () => 'ab'.repeat(32)) }, /transaction gossip is not a batch, an announcement or a request/],
    ['proposal: null', Channel.proposal, null, /malformed proposal/],
    ['proposal: no block', Channel.proposal, { proposal: { chainId: CHAIN } }, /malformed proposal/],
    ['proposal: a compact entry that is not a transaction hash', Channel.proposal, { proposal: { chainId: CHAIN }, block: { txs: ['not a hash'] } }, /malformed proposal/],
    ['proposal: a block fill request of unordered indexes', Channel.proposal, { fill: { blockHash: 'ab'.repeat(32), indexes: [2, 1] } }, /malformed block fill request/],
    ['proposal: a block fill of non-transactions', Channel.proposal, { filled: { blockHash: 'ab'.repeat(32), indexes: [0], txs: [{ body: 1 }] } }, /malformed block fill/],
    ['block status: negative height', Channel.block, { height: -1, hash: '' }, /malformed status/],
    ['block status: extra field', Channel.block, { height: 0, hash: '', more: true }, /malformed status/],
    ['vote: array', Channel.vote, [1, 2, 3], /malformed vote/],
    ['sync request: count 0', Channel.syncRequest, { from: 1, count: 0 }, /malformed sync request/],
    ['sync request: string', Channel.syncRequest, 'give me everything', /malformed sync request/],
    ['sync response: blocks not a list', Channel.syncResponse, { blocks: 'x' }, /malformed sync response/],
    ['sync response: block without header', Channel.syncResponse, { blocks: [{ block: { txs: [] }, commit: {} }] }, /malformed sync response/],
    ['evidence: unknown kind', Channel.evidence, { kind: 'bribery' }, /malformed evidence/],
  ];
  it.each(wrongShapes)('JSON of the wrong shape — %s — gets the peer banned', async (_name, channel, payload, reason) => {
    await expectPenalised(freshIdentity(), reason, send(channel, payload));
  });

  /** Correctly signed transactions, one per never-admitted sender. */
  function strangersTxs(n: number, seed: number): unknown[] {
    return Array.from({ length: n }, (_, i) => {
      const signer = identity(seed + i);
      const sender = addressFromPublicKey(signer.publicKey);
      return signTx({ chainId: CHAIN, sender, nonce: 0, expiresAtHeight: 1000, msgs: [{ type: 'registry/admit', value: { address: sender, roles: ['prosumer'] } }], memo: '' }, signer);
    });
  }

  it('control: a few transactions of senders who may not transact (a race with a block) cost no penalty', async () => {
    await expectAccepted(freshIdentity(), Channel.tx, strangersTxs(5, 180));
  });

  it('control: an announced transaction hash node0 lacks is asked for, without penalty', async () => {
    const hash = 'c0'.repeat(32);
    const wants: unknown[] = [];
    await expectAccepted(freshIdentity(), Channel.tx, { have: [hash] }, (peer) => {
      peer.onMessage((_from, channel, payload) => {
        if (channel === Channel.tx) wants.push(JSON.parse(Buffer.from(payload).toString('utf8')));
      });
      expect(peer.send(node0.nodeId, Channel.tx, json({ have: [hash] }))).toBe(true);
    });
    await waitFor(() => wants.length > 0, 'node0 asks for the announced transaction', 15_000, 10);
    expect(wants).toEqual([{ want: [hash] }]);
  });

  it("control: a peer's transaction is announced by hash to the other peers (not back to it), and sent whole to one that asks", async () => {
    const admin = openKeyring(node0.home, 'test').signer('admin');
    const sender = addressFromPublicKey(admin.publicKey);
    const tx = signTx({ chainId: CHAIN, sender, nonce: 0, expiresAtHeight: 1000, msgs: [{ type: 'registry/admit', value: { address: addressFromPublicKey(identity(240).publicKey), roles: ['prosumer'] } }], memo: '' }, admin);
    const hash = txHash(tx.body);
    const origin = await connect(freshIdentity());
    const other = await connect(freshIdentity());
    const heard = (peer: PeerSwitch) => {
      const got: unknown[] = [];
      peer.onMessage((_from, channel, payload) => {
        if (channel === Channel.tx) got.push(JSON.parse(Buffer.from(payload).toString('utf8')));
      });
      return got;
    };
    const atOrigin = heard(origin);
    const atOther = heard(other);
    const penalties = running.network!.p2p.metrics().penalties;
    expect(origin.send(node0.nodeId, Channel.tx, json([tx]))).toBe(true);
    await waitFor(() => atOther.some((m) => JSON.stringify(m) === JSON.stringify({ have: [hash] })), 'node0 announces the relayed transaction', 15_000, 10);
    expect(other.send(node0.nodeId, Channel.tx, json({ want: [hash] }))).toBe(true);
    await waitFor(() => atOther.some((m) => Array.isArray(m)), 'node0 sends the transaction asked for', 15_000, 10);
    expect(atOther.filter((m) => Array.isArray(m))).toEqual([[JSON.parse(JSON.stringify(tx))]]);
    expect(atOrigin.filter((m) => JSON.stringify(m).includes(hash))).toEqual([]);
    expect(running.network!.p2p.metrics().penalties).toBe(penalties);
    await origin.stop();
    await other.stop();
  });

  it('relaying more transactions of senders who may not transact than the allowance gets the peer banned', async () => {
    await expectPenalised(freshIdentity(), /relays transactions of senders who may not transact/, send(Channel.tx, strangersTxs(UNAUTHORISED_RELAY_ALLOWANCE + 1, 190)));
  });

  it('an oversized frame gets the peer banned', async () => {
    const huge = new Uint8Array(8 * MIB + 1024).fill(0x20);
    await expectPenalised(freshIdentity(), /oversize-frame/, send(Channel.tx, huge), { maxFrameBytes: 16 * MIB });
  });

  it('control: a correctly signed prevote of validator node1 is accepted without penalty', async () => {
    const peer = await expectAccepted(freshIdentity(), Channel.vote, signVote(node1Validator));
    await peer.stop();
  });

  it('a vote with an invalid signature gets the peer banned', async () => {
    const vote = signVote(node1Validator, { round: 1 });
    const forged = { ...vote, signature: (vote.signature[0] === 'a' ? 'b' : 'a') + vote.signature.slice(1) };
    await expectPenalised(freshIdentity(), /bad-signature/, send(Channel.vote, forged));
  });

  it('a vote signed by the right key but altered after signing gets the peer banned', async () => {
    const vote = signVote(node1Validator, { round: 1 });
    await expectPenalised(freshIdentity(), /bad-signature/, send(Channel.vote, { ...vote, blockHash: 'ab'.repeat(32) }));
  });

  it('a correctly signed vote from a key that is not a validator gets the peer banned', async () => {
    await expectPenalised(freshIdentity(), /unknown-validator/, send(Channel.vote, signVote(identity(250))));
  });

  it('a vote claiming to be node1 but signed by another key gets the peer banned', async () => {
    const other = identity(251);
    const unsigned: UnsignedVote = { chainId: CHAIN, type: 'prevote', height: 1, round: 2, blockHash: null, timestamp: Date.now(), validator: node1.validator };
    const vote = { ...unsigned, signature: toHex(other.sign(voteSignBytes(unsigned))) };
    await expectPenalised(freshIdentity(), /bad-signature/, send(Channel.vote, vote));
  });

  const outOfRange: Array<[string, Partial<UnsignedVote>, RegExp]> = [
    ['a round far beyond the current one', { round: 10_000_000 }, /round-out-of-range/],
    ['a negative round', { round: -1 }, /malformed vote/],
    ['a negative height', { height: -5 }, /malformed vote/],
    ['height 0', { height: 0 }, /malformed vote/],
  ];
  it.each(outOfRange)('a signed vote with %s gets the peer banned', async (_name, fields, reason) => {
    await expectPenalised(freshIdentity(), reason, send(Channel.vote, signVote(node1Validator, fields)));
  });

  // Numbers that cannot even be signed (canonical encoding refuses them): sent with node1's signature of round 0.
  const unsignable: Array<[string, Partial<Vote>]> = [
    ['a round beyond the safe integers', { round: 2 ** 53 }],
    ['a fractional height', { height: 1.5 }],
    ['a height given as a string', { height: '1' as unknown as number }],
  ];
  it.each(unsignable)('a vote with %s gets the peer banned', async (_name, fields) => {
    await expectPenalised(freshIdentity(), /malformed vote/, send(Channel.vote, { ...signVote(node1Validator), ...fields }));
  });

  it('a genuine vote carrying an extra unsigned field gets the peer banned', async () => {
    await expectPenalised(freshIdentity(), /malformed vote/, send(Channel.vote, { ...signVote(node1Validator, { round: 5 }), note: 'relayed by me' }));
  });

  it('a correctly signed vote for another chain id gets the peer banned', async () => {
    await expectPenalised(freshIdentity(), /wrong-chain/, send(Channel.vote, signVote(node1Validator, { chainId: 'another-chain', round: 3 })));
  });

  it('evidence made of forged votes gets the peer banned', async () => {
    const a = signVote(node1Validator, { round: 4, blockHash: null });
    const b = signVote(node1Validator, { round: 4, blockHash: 'cd'.repeat(32) });
    const evidence = { kind: 'duplicate-vote', voteA: a, voteB: { ...b, signature: a.signature } };
    await expectPenalised(freshIdentity(), /invalid-evidence/, send(Channel.evidence, evidence));
  });

  it('a signed proposal whose block is malformed gets the peer banned', async () => {
    const unsigned = { chainId: CHAIN, height: 1, round: 0, polRound: -1, blockHash: blockHash(block1.header), timestamp: Date.now(), proposer: node1.validator };
    const proposal: Proposal = { ...unsigned, signature: toHex(node1Validator.sign(proposalSignBytes(unsigned))) };
    const malformed = { ...block1, header: { ...block1.header, height: 'one' }, txs: 'none' };
    await expectPenalised(freshIdentity(), /malformed proposal/, send(Channel.proposal, { proposal, block: malformed }));
  });

  it('a correctly signed proposal from a validator whose turn it is not gets the peer banned', async () => {
    const rotation = new Rotation(node1.home);
    const round = [0, 1, 2, 3].find((r) => rotation.proposer(1, r) !== node1.validator)!;
    const unsigned = { chainId: CHAIN, height: 1, round, polRound: -1, blockHash: blockHash(block1.header), timestamp: Date.now(), proposer: node1.validator };
    const proposal: Proposal = { ...unsigned, signature: toHex(node1Validator.sign(proposalSignBytes(unsigned))) };
    await expectPenalised(freshIdentity(), /wrong-proposer/, send(Channel.proposal, { proposal, block: block1 }));
  });

  it('deeply nested JSON on the transaction channel gets the peer banned', async () => {
    const depth = 500_000;
    await expectPenalised(freshIdentity(), /invalid transaction: TX_MALFORMED/, send(Channel.tx, new Uint8Array(Buffer.from('['.repeat(depth) + ']'.repeat(depth)))));
  });

  it('a sync response with block 1 under a commit of forged signatures gets the peer banned', async () => {
    const garbage = (s: Signer) => ({ validator: addressFromPublicKey(s.publicKey), timestamp: genesisTime + 1, signature: 'ab'.repeat(64) });
    const commit = commitFor(block1, [garbage(node0Validator), garbage(node1Validator)]);
    await expectPenalised(freshIdentity(), /BLOCK_SYNC_BAD_COMMIT: commit rejected: bad-signature/, respondToSyncRequest({ blocks: [{ block: block1, commit }] }));
  });

  it('a sync response with block 1 under a commit of only half the voting power gets the peer banned', async () => {
    const hash = blockHash(block1.header);
    const commit = commitFor(block1, [precommitSig(node1Validator, hash)]);
    await expectPenalised(freshIdentity(), /BLOCK_SYNC_BAD_COMMIT: commit rejected: insufficient-power/, respondToSyncRequest({ blocks: [{ block: block1, commit }] }));
  });

  it('a sync response with block 1 under a commit signed by a non-validator gets the peer banned', async () => {
    const hash = blockHash(block1.header);
    const commit = commitFor(block1, [precommitSig(node0Validator, hash), precommitSig(node1Validator, hash), precommitSig(identity(252), hash)]);
    await expectPenalised(freshIdentity(), /BLOCK_SYNC_BAD_COMMIT: commit rejected: unknown-validator/, respondToSyncRequest({ blocks: [{ block: block1, commit }] }));
  });

  it('a sync response with a genuine commit for a different block 1 gets the peer banned', async () => {
    const hash = blockHash(block1.header);
    const other: Block = { ...block1, header: { ...block1.header, time: block1.header.time + 1 } };
    const commit = commitFor(block1, [precommitSig(node0Validator, hash), precommitSig(node1Validator, hash)]);
    await expectPenalised(freshIdentity(), /BLOCK_SYNC_BAD_COMMIT: commit rejected: wrong-block/, respondToSyncRequest({ blocks: [{ block: other, commit }] }));
  });

  it('a sync response with a block whose header does not re-execute, under a genuine commit of both validators, gets the peer banned', async () => {
    const bad: Block = { ...block1, header: { ...block1.header, stateRoot: 'ee'.repeat(32) } };
    const hash = blockHash(bad.header);
    const commit = commitFor(bad, [precommitSig(node0Validator, hash), precommitSig(node1Validator, hash)]);
    await expectPenalised(freshIdentity(), /BLOCK_SYNC_INVALID_BLOCK/, respondToSyncRequest({ blocks: [{ block: bad, commit }] }));
  });

  it('an unsolicited sync response (never requested) gets the peer banned and nothing is buffered', async () => {
    const hash = blockHash(block1.header);
    const commit = commitFor(block1, [precommitSig(node0Validator, hash), precommitSig(node1Validator, hash)]);
    await expectPenalised(freshIdentity(), /unsolicited block sync response/, send(Channel.syncResponse, { blocks: [{ block: block1, commit }] }));
    expect(running.network!.sync.bufferedByteCount).toBe(0);
  });

  it('control: a sync response with block 1 under a genuine commit of both validators is applied', async () => {
    const hash = blockHash(block1.header);
    const commit = commitFor(block1, [precommitSig(node0Validator, hash), precommitSig(node1Validator, hash)]);
    const peer = await expectAccepted(freshIdentity(), Channel.block, { height: 5, hash: 'ff'.repeat(32) }, respondToSyncRequest({ blocks: [{ block: block1, commit }] }));
    const after = await waitFor(async () => {
      const s = await snapshot();
      return s.height === 1 ? s : null;
    }, 'block 1 applied');
    expect(after).toEqual({ height: 1, stateRoot: block1.header.stateRoot, latestBlockHash: hash });
    await peer.stop();
  });
});
