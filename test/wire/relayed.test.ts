import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { blockHash, type Block } from '../../src/codec/block.js';
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
import { api, freeBasePort, Rotation, waitFor } from '../devnet/harness.js';

/**
 * Acceptance, "bad input on the wire", the relayed kind: genuine signatures, tampered content.
 * A peer that relays consensus messages (any allowed node, not necessarily a validator) must not be
 * able to change what an honest validator votes for or make it lose a decision. node0 of a
 * 2-validator devnet runs in this process; the test plays node1 (its node key and validator key:
 * an honest validator) and a relay peer with another allowed identity.
 */

const CHAIN = 'gridledger-relay-test';
const silent = pino({ level: 'silent' });
const relayKey = new Signer(keyPairFromSeed(new Uint8Array(32).fill(77)).secretKey);

interface Setup {
  dir: string;
  node0: DevnetNode;
  node1: DevnetNode;
  running: RunningNode;
  node1Validator: Signer;
  honest: PeerSwitch;
  relay: PeerSwitch;
  /** node0's own votes as received on the wire. */
  votesOfNode0: Vote[];
  block: Block;
  /** First round of height 1 whose proposer is node1. */
  round: number;
}

let current: Setup | undefined;

afterEach(async () => {
  if (!current) return;
  const s = current;
  current = undefined;
  await Promise.all([s.honest.stop(), s.relay.stop()]);
  await s.running.stop();
  rmSync(s.dir, { recursive: true, force: true });
}, 30_000);

async function setup(): Promise<Setup> {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-relay-'));
  const basePort = await freeBasePort(2);
  const [node0, node1] = prepareDevnet(dir, 2, basePort, CHAIN, { blockTimeMs: 100 }).nodes as [DevnetNode, DevnetNode];
  const configPath = paths(node0.home).config;
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.p2p.allowedPeers = [addressFromPublicKey(relayKey.publicKey)];
  config.logLevel = 'silent';
  // The block is built once, ahead of the test cases: make any arrival time count as timely.
  config.consensus.synchrony = { precisionMs: 60_000, messageDelayMs: 600_000 };
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const keyring1 = openKeyring(node1.home, 'test');
  const genesis = loadGenesis(node1.home);
  const builder = new LedgerNode({ config: loadConfig(node1.home), genesis, dbPath: join(dir, 'builder.db'), validatorSigner: null, modules: MODULE_CORES, logger: silent });
  const block = builder.buildExecutedBlock({ time: genesis.genesisTime, proposer: node1.validator, lastCommit: null, evidence: [] }).block;
  builder.close();
  const rotation = new Rotation(node1.home);
  const round = [0, 1, 2, 3].find((r) => rotation.proposer(1, r) === node1.validator)!;

  const running = await startNode(node0.home, { apiPort: 0, logger: silent });
  const votesOfNode0: Vote[] = [];
  const peer = async (key: Signer) => {
    const p = new PeerSwitch({ chainId: CHAIN, nodeKey: key, persistentPeers: [{ id: node0.nodeId, host: '127.0.0.1', port: Number(node0.p2p.split(':')[1]) }], reconnectBaseMs: 50 });
    p.onMessage((_from, channel, payload) => {
      if (channel !== Channel.vote) return;
      const vote = JSON.parse(Buffer.from(payload).toString()) as Vote;
      if (vote.validator === node0.validator && !votesOfNode0.some((v) => v.signature === vote.signature)) votesOfNode0.push(vote);
    });
    await p.start();
    await waitFor(() => p.peers().some((x) => x.id === node0.nodeId), `${p.id} connected to node0`, 15_000, 10);
    return p;
  };
  const honest = await peer(keyring1.signer('node'));
  const relay = await peer(relayKey);
  current = { dir, node0, node1, running, node1Validator: keyring1.signer('validator'), honest, relay, votesOfNode0, block, round };
  return current;
}

function json(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value)));
}

function sendFrom(s: Setup, peer: PeerSwitch, channel: ChannelId, value: unknown): void {
  expect(peer.send(s.node0.nodeId, channel, json(value))).toBe(true);
}

function vote(s: Setup, fields: Partial<UnsignedVote>): Vote {
  const unsigned: UnsignedVote = { chainId: CHAIN, type: 'prevote', height: 1, round: 0, blockHash: null, timestamp: Date.now(), validator: s.node1.validator, ...fields };
  return { ...unsigned, signature: toHex(s.node1Validator.sign(voteSignBytes(unsigned))) };
}

function proposal(s: Setup): Proposal {
  // Proposer-based time: the proposal carries its block's time.
  const unsigned = { chainId: CHAIN, height: 1, round: s.round, polRound: -1, blockHash: blockHash(s.block.header), timestamp: s.block.header.time, proposer: s.node1.validator };
  return { ...unsigned, signature: toHex(s.node1Validator.sign(proposalSignBytes(unsigned))) };
}

/** node1 votes nil in every round before node1's own round, so node0 moves on to it. */
function nilRoundsBefore(s: Setup): void {
  for (let r = 0; r < s.round; r++) {
    sendFrom(s, s.honest, Channel.vote, vote(s, { type: 'prevote', round: r }));
    sendFrom(s, s.honest, Channel.vote, vote(s, { type: 'precommit', round: r }));
  }
}

async function node0Vote(s: Setup, type: Vote['type'], round: number): Promise<Vote> {
  return waitFor(() => s.votesOfNode0.find((v) => v.height === 1 && v.round === round && v.type === type), `node0's ${type} in round ${round}`, 30_000, 10);
}

async function height(s: Setup): Promise<number> {
  return (await api(s.running.url, coreRoutes.status, {})).height;
}

describe.sequential('relayed consensus messages with genuine signatures and tampered content', () => {
  it('control: node1 proposes a valid block, both vote for it, node0 commits it', async () => {
    const s = await setup();
    const p = proposal(s);
    sendFrom(s, s.honest, Channel.proposal, { proposal: p, block: s.block });
    nilRoundsBefore(s);
    expect((await node0Vote(s, 'prevote', s.round)).blockHash).toBe(p.blockHash);
    sendFrom(s, s.honest, Channel.vote, vote(s, { type: 'prevote', round: s.round, blockHash: p.blockHash }));
    expect((await node0Vote(s, 'precommit', s.round)).blockHash).toBe(p.blockHash);
    sendFrom(s, s.honest, Channel.vote, vote(s, { type: 'precommit', round: s.round, blockHash: p.blockHash }));
    await waitFor(async () => (await height(s)) === 1, 'node0 commits block 1');
    expect((await api(s.running.url, coreRoutes.getBlock, { params: { height: 1 } })).hash).toBe(p.blockHash);
  });

  it('a relay that swaps the body of a genuine proposal neither makes node0 prevote nil nor escapes a penalty', async () => {
    const s = await setup();
    const p = proposal(s);
    // The relay is first, with the genuine signed proposal but another body (the header is intact,
    // the evidence list is not the one its evidenceHash commits to); then node1's own copy arrives.
    const tampered: Block = { ...s.block, evidence: [{ kind: 'noise' }] };
    sendFrom(s, s.relay, Channel.proposal, { proposal: p, block: tampered });
    await waitFor(() => (s.running.network!.p2p.metrics().messagesInByChannel[Channel.proposal] ?? 0) >= 1, 'relayed proposal delivered', 15_000, 10);
    sendFrom(s, s.honest, Channel.proposal, { proposal: p, block: s.block });
    nilRoundsBefore(s);
    const prevote = await node0Vote(s, 'prevote', s.round);
    expect(prevote.blockHash, 'node0 prevotes for the genuine block of the genuine proposal').toBe(p.blockHash);
    expect(s.running.network!.p2p.isBanned(s.relay.id), 'the relay that served a body not matching the signed header is penalised').toBe(true);
  });

  it('a relay that adds an unsigned field to the decisive precommit does not make node0 lose the decision', async () => {
    const s = await setup();
    const p = proposal(s);
    sendFrom(s, s.honest, Channel.proposal, { proposal: p, block: s.block });
    nilRoundsBefore(s);
    expect((await node0Vote(s, 'prevote', s.round)).blockHash).toBe(p.blockHash);
    sendFrom(s, s.honest, Channel.vote, vote(s, { type: 'prevote', round: s.round, blockHash: p.blockHash }));
    expect((await node0Vote(s, 'precommit', s.round)).blockHash).toBe(p.blockHash);
    // node1's genuine precommit, relayed with an extra (unsigned) deeply nested field.
    const precommit = vote(s, { type: 'precommit', round: s.round, blockHash: p.blockHash });
    const depth = 20_000;
    const withJunk = Buffer.from(JSON.stringify(precommit).slice(0, -1) + `,"note":${'['.repeat(depth)}${']'.repeat(depth)}}`);
    expect(s.relay.send(s.node0.nodeId, Channel.vote, new Uint8Array(withJunk))).toBe(true);
    await waitFor(() => (s.running.network!.p2p.metrics().messagesInByChannel[Channel.vote] ?? 0) >= 2 * s.round + 2, 'relayed precommit delivered', 15_000, 10);
    await waitFor(() => s.running.network!.p2p.isBanned(s.relay.id), 'the relay that altered a vote is penalised', 15_000, 10);
    // node1 itself sends (re-gossips) the same precommit as it signed it.
    sendFrom(s, s.honest, Channel.vote, precommit);
    await waitFor(async () => (await height(s)) === 1, 'node0 commits block 1', 20_000);
    expect(s.running.network!.p2p.metrics().handlerErrors, 'no exception escaped a P2P message handler').toBe(0);
  });
});
