import { afterEach, describe, expect, it } from 'vitest';
import { Signer, generateKeyPair } from '../../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import {
  composeBroadcast,
  composeSealed,
  fromWire,
  generateMessagingKey,
  messageHash,
  messagingAddress,
  mintStamp,
  openBroadcast,
  openSealed,
  stamped,
  stampValid,
  toWire,
  type Envelope,
} from '../../src/messaging/index.js';
import { Channel } from '../../src/p2p/index.js';
import { encode } from '../../src/runtime/reactors/wire.js';
import { toHex } from '../../src/util/bytes.js';
import { Harness, nodeId, peerAddress, signer, waitFor } from '../p2p/helpers.js';
import { startMesh, stopAll, TEST_PARAMS, type MsgNode } from './helpers.js';

const h = new Harness();
let nodes: MsgNode[] = [];
afterEach(async () => {
  stopAll(nodes);
  nodes = [];
  await h.cleanup();
});

const now = () => Math.floor(Date.now() / 1000);
const DEADLINE = 60_000;

async function mesh(count = 4): Promise<MsgNode[]> {
  nodes = await startMesh(h, count);
  await waitFor(() => nodes.every((n) => n.p2p.peers().length === count - 1), 'a full mesh', DEADLINE);
  return nodes;
}

function everywhere(hash: string): boolean {
  return nodes.every((n) => n.messaging.pool.has(hash));
}

function includesBytes(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).indexOf(Buffer.from(needle)) >= 0;
}

describe('an eavesdropping node (4 nodes)', () => {
  it('sees every message, learns neither sender nor recipient; only the recipient decrypts', async () => {
    const [a, b, c, eve] = await mesh();
    const alice = new Signer(generateKeyPair().secretKey);
    const dave = new Signer(generateKeyPair().secretKey);
    const [bob, carol, eveKey, aliceReply] = [generateMessagingKey(), generateMessagingKey(), generateMessagingKey(), generateMessagingKey()];
    const toBob = stamped(composeSealed(bob.publicKey, { content: { text: 'offer 5 kWh at 19 ct', replyTo: messagingAddress(aliceReply.publicKey) }, ttl: 3600, now: now(), signer: alice }), TEST_PARAMS);
    const toCarol = stamped(composeSealed(carol.publicKey, { content: { text: 'offer 5 kWh at 19 ct' }, ttl: 3600, now: now() }), TEST_PARAMS);
    const toAll = stamped(composeBroadcast({ content: { text: 'auction closes at 18:00' }, ttl: 3600, now: now(), signer: dave }), TEST_PARAMS);
    a!.messaging.submit(toWire(toBob));
    b!.messaging.submit(toWire(toCarol));
    c!.messaging.submit(toWire(toAll));
    const hashes = [toBob, toCarol, toAll].map(messageHash);
    await waitFor(() => hashes.every(everywhere), 'every message on every node', DEADLINE);

    // Eve saw all three on the wire and stores all three.
    const seen = new Set(eve!.frames.map((f) => f.hash));
    expect(hashes.every((x) => seen.has(x))).toBe(true);
    // Nothing Eve received names the sender or the recipient, in text or in bytes.
    const identities = [alice.publicKey, bob.publicKey, carol.publicKey, aliceReply.publicKey];
    const names = [addressFromPublicKey(alice.publicKey), messagingAddress(bob.publicKey), messagingAddress(carol.publicKey), messagingAddress(aliceReply.publicKey), ...identities.map(toHex), ...identities.map((k) => Buffer.from(k).toString('base64'))];
    for (const frame of eve!.frames.filter((f) => f.hash !== messageHash(toAll))) {
      for (const name of names) expect(frame.raw).not.toContain(name);
      const env = fromWire(JSON.parse(frame.raw), TEST_PARAMS);
      for (const key of identities) expect(includesBytes(env.payload, key)).toBe(false);
      expect(Object.keys(JSON.parse(frame.raw)).sort()).toEqual(['expiresAt', 'kind', 'payload', 'stamp', 'ttl', 'v']);
    }
    // The two sealed messages look alike: same kind, same size, though one is signed and has a reply key.
    const [storedBob, storedCarol] = [toBob, toCarol].map((m) => eve!.messaging.pool.get(messageHash(m))!.envelope);
    expect(storedBob!.payload.length).toBe(storedCarol!.payload.length);
    // Eve's keys, and every key but the recipient's, open nothing.
    for (const env of [storedBob!, storedCarol!]) for (const key of [eveKey, aliceReply]) expect(openSealed(env, key.secretKey)).toBeNull();
    expect(openSealed(storedBob!, carol.secretKey)).toBeNull();
    expect(openSealed(storedCarol!, bob.secretKey)).toBeNull();
    // Each recipient reads its message, from the copy its own node holds.
    const bobsCopy = b!.messaging.pool.get(messageHash(toBob))!.envelope;
    expect(openSealed(bobsCopy, bob.secretKey)).toMatchObject({ text: 'offer 5 kWh at 19 ct', from: addressFromPublicKey(alice.publicKey), replyTo: messagingAddress(aliceReply.publicKey) });
    expect(openSealed(c!.messaging.pool.get(messageHash(toCarol))!.envelope, carol.secretKey)).toMatchObject({ text: 'offer 5 kWh at 19 ct' });
    // The broadcast is readable by everyone, signed by Dave.
    expect(openBroadcast(eve!.messaging.pool.get(messageHash(toAll))!.envelope)).toMatchObject({ from: addressFromPublicKey(dave.publicKey) });
    // Every node holds byte-identical envelopes: relaying adds nothing.
    for (const x of hashes) expect(new Set(nodes.map((n) => JSON.stringify(toWire(n.messaging.pool.get(x)!.envelope)))).size).toBe(1);
  }, 120_000);
});

/** A peer outside the mesh that sends raw frames to node `target` (no checks of its own). */
async function rogue(seed: number, target: MsgNode) {
  const key = signer(seed);
  const p2p = await h.node(key, { persistentPeers: [peerAddress(target.key, target.p2p)], allowedPeers: [target.id] });
  await waitFor(() => target.p2p.peers().some((p) => p.id === nodeId(key)) && p2p.peers().some((p) => p.id === target.id), 'the rogue peer connected', DEADLINE);
  return { id: nodeId(key), send: (value: unknown) => p2p.send(target.id, Channel.message, encode(value)), p2p };
}

function withFailingStamp(env: Omit<Envelope, 'stamp'>): Envelope {
  for (let i = 0; ; i++) {
    const candidate = { ...env, stamp: new Uint8Array(8).fill(i & 0xff) };
    candidate.stamp[0] = i >> 8;
    if (!stampValid(candidate, TEST_PARAMS)) return candidate;
  }
}

function sealed(text: string, at: number, ttl = 3600): Omit<Envelope, 'stamp'> {
  return composeSealed(generateMessagingKey().publicKey, { content: { text }, ttl, now: at });
}

describe('junk is dropped and never relayed', () => {
  it('expired and future messages (beyond the skew) are dropped; the honest message sent after them spreads', async () => {
    const [a, b, c, d] = await mesh();
    const x = await rogue(44, a!);
    const expired = stamped(sealed('old', now() - 4000), TEST_PARAMS);
    const future = stamped(sealed('later', now() + TEST_PARAMS.maxSkewSeconds + 600), TEST_PARAMS);
    const marker = stamped(sealed('marker', now()), TEST_PARAMS);
    for (const m of [expired, future, marker]) expect(x.send(toWire(m))).toBe(true);
    await waitFor(() => everywhere(messageHash(marker)), 'the marker on every node', DEADLINE);
    // The marker's relays are done once every node got it from every other; the junk was sent before it.
    await waitFor(() => [b, c, d].every((n) => n!.frames.filter((f) => f.hash === messageHash(marker)).length >= 2), 'the marker flooded', DEADLINE);
    for (const bad of [expired, future]) {
      expect(nodes.some((n) => n.messaging.pool.has(messageHash(bad)))).toBe(false);
      expect([b, c, d].some((n) => n!.frames.some((f) => f.hash === messageHash(bad)))).toBe(false);
    }
    expect(a!.messaging.counters.rejected).toEqual({ MSG_EXPIRED: 1, MSG_FROM_FUTURE: 1 });
    // A clock off now and then is tolerated: the peer stays connected.
    expect(a!.bans).toEqual([]);
  }, 120_000);

  it('a bad stamp, and a stamp made for another message, are dropped and their sender penalised', async () => {
    const [a, b, c, d] = await mesh();
    const badStamp = withFailingStamp(sealed('no work done', now()));
    const donor = sealed('paid for', now());
    const borrowed = { ...sealed('free ride', now()), stamp: mintStamp(donor, TEST_PARAMS).stamp };
    expect(stampValid(borrowed, TEST_PARAMS)).toBe(false);
    for (const [seed, junk] of [[45, badStamp], [46, borrowed]] as const) {
      const x = await rogue(seed, a!);
      expect(x.send(toWire(junk))).toBe(true);
      await waitFor(() => a!.bans.some((ban) => ban.peer === x.id), 'the rogue penalised', DEADLINE);
      expect(a!.bans.find((ban) => ban.peer === x.id)!.reason).toContain('MSG_BAD_STAMP');
    }
    // An honest message still spreads; the junk never reached anyone else.
    const marker = stamped(sealed('marker', now()), TEST_PARAMS);
    a!.messaging.submit(toWire(marker));
    await waitFor(() => everywhere(messageHash(marker)), 'the marker on every node', DEADLINE);
    for (const bad of [badStamp, borrowed]) {
      expect(nodes.some((n) => n.messaging.pool.has(messageHash(bad)))).toBe(false);
      expect([b, c, d].some((n) => n!.frames.some((f) => f.hash === messageHash(bad)))).toBe(false);
    }
    expect(a!.messaging.counters.rejected).toEqual({ MSG_BAD_STAMP: 2 });
  }, 120_000);

  it('a flood of 100,000 junk messages from one peer: the peer is banned, nothing is stored or relayed', async () => {
    const [a, b, c, d] = await mesh();
    const z = await rogue(47, a!);
    const template = toWire(stamped(sealed('junk', now() - 4000), TEST_PARAMS));
    let sent = 0;
    for (let i = 0; i < 100_000; i++) {
      // distinct expired messages: cheap to make, each must be parsed and checked by the victim
      if (z.send({ ...template, expiresAt: template.expiresAt - i })) sent++;
    }
    await waitFor(() => a!.bans.some((ban) => ban.peer === z.id), 'the flooding peer banned', DEADLINE);
    expect(a!.bans.find((ban) => ban.peer === z.id)!.reason).toMatch(/expired or future|rate/);
    expect(sent).toBeGreaterThan(0);
    expect(a!.messaging.pool.size).toBe(0);
    expect(a!.reactor.trackedPeers).toBeLessThanOrEqual(3);
    expect([b, c, d].every((n) => n!.frames.length === 0)).toBe(true);
  }, 120_000);
});
