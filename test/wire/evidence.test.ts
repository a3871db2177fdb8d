import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { coreRoutes } from '../../src/api/routes.js';
import { hashOf } from '../../src/codec/block.js';
import { makeEvidence, voteSignBytes, type Evidence, type UnsignedVote, type Vote } from '../../src/consensus/index.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import type { Signer } from '../../src/crypto/ed25519.js';
import { prepareDevnet, type DevnetNode } from '../../src/runtime/devnet.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { Channel, PeerSwitch } from '../../src/p2p/index.js';
import { toHex } from '../../src/util/bytes.js';
import { api, BIN, freeBasePort, Rotation, waitFor } from '../devnet/harness.js';

/**
 * Acceptance, evidence end to end on real sockets: node0 of a 2-validator devnet runs in this
 * process; the test plays node1 completely on the wire (node1's node key for the P2P connection,
 * node1's validator key for its votes). node1 mirrors node0's votes so the chain progresses (node0
 * alone holds only half the power), except once: at the first height/round where node0 prevotes a
 * block, node1 sends two correctly signed prevotes, one for that block and one for nil.
 *
 * Expected: node0 detects the equivocation, gossips the evidence to its peer, counts it in
 * /metrics, and commits it in its block of the next height (its pool's evidence goes into its next
 * proposal); the block's evidenceHash commits to it; GET /v1/evidence and `gridledger query
 * evidence -o json` return it; the registry jails node1 (pending: half the power may not leave in
 * one step); node1 is not penalised and the chain keeps going.
 *
 * node1 never proposes: heights or rounds where it is the proposer end in a nil round and node0
 * proposes in the next round (the proposer alternates), so every block is node0's.
 */

const CHAIN = 'gridledger-evidence-test';
const silent = pino({ level: 'silent' });
const run = promisify(execFile);

let dir: string;
let node0: DevnetNode;
let node1: DevnetNode;
let running: RunningNode;
let peer: PeerSwitch;
let node1Validator: Signer;

/** Every vote node1 signed, by height/round/type: the first (honest) one. */
const signed = new Map<string, Vote>();
/** The equivocation: node1's prevote for node0's block and its conflicting prevote for nil. */
let equivocation: { forBlock: Vote; forNil: Vote } | null = null;
/** Evidence node0 gossiped to node1. */
const gossiped: unknown[] = [];
/** Errors thrown while playing node1 (a handler must not throw silently). */
const playErrors: unknown[] = [];

function json(value: unknown): Uint8Array {
  return new Uint8Array(Buffer.from(JSON.stringify(value)));
}

function signVote(fields: Pick<UnsignedVote, 'type' | 'height' | 'round' | 'blockHash' | 'timestamp'>): Vote {
  const unsigned: UnsignedVote = { chainId: CHAIN, validator: node1.validator, ...fields };
  return { ...unsigned, signature: toHex(node1Validator.sign(voteSignBytes(unsigned))) };
}

function sendVote(vote: Vote): void {
  if (!peer.send(node0.nodeId, Channel.vote, json(vote))) throw new Error(`vote ${vote.height}/${vote.round}/${vote.type} not queued`);
}

/**
 * node1's behaviour: vote as node0 votes, once per height/round/type (node0 prevotes its valid
 * proposal or nil after its propose timeout, precommits only after a polka, so following it is
 * what an honest node1 would do). The first prevote for a block is doubled by a prevote for nil.
 */
function onNode0Vote(v: Vote): void {
  if (v.validator !== node0.validator || v.chainId !== CHAIN) return;
  const key = `${v.height}/${v.round}/${v.type}`;
  if (signed.has(key)) return;
  const timestamp = Math.max(Date.now(), v.timestamp);
  const mine = signVote({ type: v.type, height: v.height, round: v.round, blockHash: v.blockHash, timestamp });
  signed.set(key, mine);
  sendVote(mine);
  if (!equivocation && v.type === 'prevote' && v.blockHash !== null) {
    const forNil = signVote({ type: 'prevote', height: v.height, round: v.round, blockHash: null, timestamp: timestamp + 1 });
    equivocation = { forBlock: mine, forNil };
    sendVote(forNil);
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gridledger-evidence-'));
  const basePort = await freeBasePort(2);
  [node0, node1] = prepareDevnet(dir, 2, basePort, CHAIN, { blockTimeMs: 100 }).nodes as [DevnetNode, DevnetNode];
  // Short heartbeat and timeouts so empty heights follow each other quickly and node1's nil rounds are short.
  const configPath = paths(node0.home).config;
  const config = JSON.parse(readFileSync(configPath, 'utf8'));
  config.logLevel = 'silent';
  config.consensus.emptyBlockIntervalMs = 200;
  config.consensus.timeouts = { proposeMs: 400, prevoteMs: 200, precommitMs: 200, deltaMs: 100 };
  writeFileSync(configPath, JSON.stringify(config, null, 2));

  const keyring1 = openKeyring(node1.home, 'test');
  const node1Key = keyring1.signer('node');
  node1Validator = keyring1.signer('validator');
  expect(addressFromPublicKey(node1Key.publicKey)).toBe(node1.nodeId);
  expect(addressFromPublicKey(node1Validator.publicKey)).toBe(node1.validator);

  running = await startNode(node0.home, { apiPort: 0, logger: silent });

  peer = new PeerSwitch({
    chainId: CHAIN,
    nodeKey: node1Key,
    persistentPeers: [{ id: node0.nodeId, host: '127.0.0.1', port: Number(node0.p2p.split(':')[1]) }],
    reconnectBaseMs: 50,
    reconnectMaxMs: 200,
    maxFrameBytes: 8 * 1024 * 1024,
  });
  peer.onMessage((from, channel, payload) => {
    if (from !== node0.nodeId) return;
    try {
      const value = JSON.parse(Buffer.from(payload).toString('utf8')) as unknown;
      if (channel === Channel.vote) onNode0Vote(value as Vote);
      else if (channel === Channel.evidence) gossiped.push(value);
    } catch (err) {
      playErrors.push(err);
    }
  });
  await peer.start();
  await waitFor(() => peer.peers().some((p) => p.id === node0.nodeId), 'node1 connected to node0', 15_000, 10);
}, 60_000);

afterAll(async () => {
  await peer?.stop();
  await running?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
}, 30_000);

function expectedEvidence(): Evidence {
  if (!equivocation) throw new Error('node1 has not equivocated yet');
  return makeEvidence(equivocation.forBlock, equivocation.forNil);
}

async function evidenceMetric(): Promise<number> {
  const res = await fetch(`${running.url}/metrics`);
  expect(res.status).toBe(200);
  const m = /^gridledger_consensus_evidence_total (\d+)$/m.exec(await res.text());
  if (!m) throw new Error('gridledger_consensus_evidence_total missing from /metrics');
  return Number(m[1]);
}

describe.sequential('equivocation evidence on real sockets', () => {
  it('node1 equivocates (two signed prevotes, block and nil, same height/round); node0 detects it and gossips the evidence', async () => {
    const eq = await waitFor(() => equivocation, 'node0 prevotes a block and node1 equivocates', 20_000, 10);
    expect(eq.forBlock.blockHash).not.toBeNull();
    expect(eq.forNil.blockHash).toBeNull();
    expect([eq.forNil.height, eq.forNil.round, eq.forNil.type]).toEqual([eq.forBlock.height, eq.forBlock.round, 'prevote']);

    const expected = expectedEvidence();
    expect(expected.voteA).toEqual(eq.forNil); // nil sorts first
    await waitFor(() => gossiped.length > 0, 'node0 gossips evidence', 15_000, 10);
    expect(gossiped).toEqual([expected]);
    expect(await evidenceMetric()).toBeGreaterThanOrEqual(1);
  });

  it('node0 commits the evidence in its block of the next height, and the header commits to it', async () => {
    const expected = expectedEvidence();
    const h = expected.voteA.height;
    await waitFor(async () => (await api(running.url, coreRoutes.status, {})).height >= h + 1, `height ${h + 1} committed`, 20_000, 20);

    const equivocated = await api(running.url, coreRoutes.getBlock, { params: { height: h } });
    const carrying = await api(running.url, coreRoutes.getBlock, { params: { height: h + 1 } });
    const header = carrying.block.header as { proposer: string; evidenceHash: string; height: number };
    expect(header.height).toBe(h + 1);
    expect(header.proposer).toBe(node0.validator);
    expect(carrying.block.evidence).toEqual([expected]);
    expect(header.evidenceHash).toBe(hashOf([expected]));
    expect((equivocated.block.header as { evidenceHash: string }).evidenceHash).toBe(hashOf([]));
    expect(header.evidenceHash).not.toBe(hashOf([]));
    // The equivocating block itself was decided with node1's honest precommit.
    expect((equivocated.commit as { blockHash: string }).blockHash).toBe(equivocated.hash);
    expect(equivocated.hash).toBe(expected.voteB.blockHash);
  });

  it('GET /v1/evidence returns it with the equivocating validator, height and round', async () => {
    const expected = expectedEvidence();
    const h = expected.voteA.height;
    const res = await api(running.url, coreRoutes.evidence, { query: { limit: 100 } });
    expect(res.evidence).toEqual([{ height: h + 1, evidence: expected }]);
    const votes = [res.evidence[0]!.evidence.voteA, res.evidence[0]!.evidence.voteB] as Vote[];
    for (const v of votes) {
      expect(v.validator).toBe(node1.validator);
      expect(v.height).toBe(h);
      expect(v.round).toBe(expected.voteA.round);
      expect(v.type).toBe('prevote');
    }
  });

  it('the registry jails node1; with half the power it may not go in one step, so the jail waits (`query jailed`)', async () => {
    const expected = expectedEvidence();
    const { stdout } = await run(process.execPath, [BIN, 'query', 'jailed', '-o', 'json', '--node', running.url], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({
      jails: [
        {
          address: node1.validator,
          offence: { height: expected.voteA.height, round: expected.voteA.round, vote: 'prevote', committedAt: expected.voteA.height + 1 },
          offences: 1,
          status: 'pending',
          waiting: 'GOV_POWER_LOSS_TOO_LARGE',
        },
      ],
    });
  });

  it('`gridledger query evidence -o json --node URL` prints it', async () => {
    const expected = expectedEvidence();
    const { stdout } = await run(process.execPath, [BIN, 'query', 'evidence', '-o', 'json', '--node', running.url], { timeout: 30_000 });
    expect(JSON.parse(stdout)).toEqual({ evidence: [{ height: expected.voteA.height + 1, evidence: expected }] });
  });

  it('the chain keeps going with node1 honest, node1 is not penalised, and the evidence is counted once', async () => {
    const expected = expectedEvidence();
    const after = expected.voteA.height + 2;
    await waitFor(async () => (await api(running.url, coreRoutes.status, {})).height >= after, `height ${after} committed`, 20_000, 20);
    const next = await api(running.url, coreRoutes.getBlock, { params: { height: after } });
    expect(next.block.evidence).toEqual([]);
    expect((await api(running.url, coreRoutes.evidence, { query: { limit: 100 } })).evidence).toHaveLength(1);
    expect(await evidenceMetric()).toBe(1);
    expect(gossiped).toEqual([expected]);

    // Every block so far was node0's (node1 never proposes), as the rotation allows for the rounds used.
    const rotation = new Rotation(node0.home);
    for (let h = 1; h <= after; h++) {
      const b = await api(running.url, coreRoutes.getBlock, { params: { height: h } });
      const round = (b.commit as { round: number }).round;
      expect(rotation.proposer(h, round)).toBe(node0.validator);
    }

    const p2p = running.network!.p2p;
    expect(p2p.isBanned(peer.id)).toBe(false);
    expect(p2p.metrics().penalties).toBe(0);
    expect(p2p.metrics().handlerErrors).toBe(0);
    expect(peer.metrics().handlerErrors).toBe(0);
    expect(playErrors).toEqual([]);
  });
});
