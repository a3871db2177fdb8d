import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { messagingRoutes, parseMessagingAddress } from '../../src/messaging/index.js';
import { identitySecret } from '../../src/modules/anon/index.js';
import { prepareDevnet, type DevnetManifest, type DevnetNode } from '../../src/runtime/devnet.js';
import { toHex } from '../../src/util/bytes.js';
import { identityCommitment } from '../../src/zk/circuits.js';
import { freeBasePort, Processes, startDevnetProcesses, status, waitFor } from '../devnet/harness.js';
import { eventOf, userCli, type UserCli } from '../foundation/cli-helpers.js';

const ASSET = 'NOK@microgrid';
const HOUR = 3_600_000;
const MINTED = 30_000_000;

/**
 * Issue 16's acceptance, the PriWatt flow end to end on a 4-validator devnet of processes, driven
 * through the CLI as its users would: alice (a prosumer of the community) and bob (a consumer) each
 * admit an anonymous trade account with a membership proof, from their own homes; alice's account
 * posts an offer with a per-trade messaging key through node A; bob's reads it and sends an
 * encrypted counter-offer through node B, which alice reads through node C (so the message crossed
 * the P2P network); she answers through node C and bob reads it through node B; she re-posts at the
 * agreed price, bob takes it into a 2-of-3 escrow with the grid operator as mediator, the grid
 * operator confirms delivery, release. A second trade is disputed and split 70/30 by the grid
 * operator. Every validator shows the same balances; no state entry or event links an anonymous
 * account to its member, and no block holds the negotiation.
 */
describe.sequential('PriWatt on a 4-validator devnet: anonymous offer → encrypted negotiation → escrow → release; a split dispute', () => {
  const procs = new Processes();
  let dir: string;
  let manifest: DevnetManifest;
  let nodeA: DevnetNode, nodeB: DevnetNode, nodeC: DevnetNode, nodeD: DevnetNode;
  /** The consortium (operator admin, bank, grid operator dso): node0's home. */
  let consortium: UserCli;
  /** The seller's and the buyer's own homes (their member key, then their anonymous keys). */
  let alice: UserCli;
  let bob: UserCli;
  let members: Record<string, string>;
  let seller: string;
  let buyer: string;
  let dso: string;
  let buyerReply: string;
  const negotiation: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gridledger-priwatt-devnet-'));
    const extra = { bank: ['issuer'], alice: ['prosumer'], bob: ['consumer'], dso: ['grid-operator'] };
    manifest = prepareDevnet(dir, 4, await freeBasePort(4), 'priwatt-devnet', { blockTimeMs: 300 }, extra);
    for (const n of manifest.nodes) {
      const genesis = JSON.parse(readFileSync(paths(n.home).genesis, 'utf8'));
      genesis.modules.anon = { maxSlots: 2, epochBlocks: 1_000_000 };
      writeFileSync(paths(n.home).genesis, JSON.stringify(genesis, null, 2));
    }
    const started = startDevnetProcesses(manifest, procs);
    [nodeA, nodeB, nodeC, nodeD] = manifest.nodes as [DevnetNode, DevnetNode, DevnetNode, DevnetNode];
    const consortiumHome = nodeA.home;
    consortium = userCli(consortiumHome, nodeD.api);
    alice = userCli(userHome('alice', consortiumHome), nodeA.api);
    bob = userCli(userHome('bob', consortiumHome), nodeB.api);
    const keyring = openKeyring(consortiumHome, 'test');
    members = { alice: keyring.show('alice').address, bob: keyring.show('bob').address };
    dso = keyring.show('dso').address;
    await started;
  }, 180_000);

  afterAll(async () => {
    await procs.killAll();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A user's own home: a client config (test keyring) and the member key genesis admitted, nothing else. */
  function userHome(name: string, from: string): string {
    const home = join(dir, `home-${name}`);
    mkdirSync(paths(home).keyring, { recursive: true, mode: 0o700 });
    copyFileSync(paths(from).config, paths(home).config);
    copyFileSync(join(paths(from).keyring, `${name}.json`), join(paths(home).keyring, `${name}.json`));
    return home;
  }

  /** Waits until every validator has committed `height`. */
  const everyValidatorAt = (height: number) => Promise.all(manifest.nodes.map((n) => waitFor(async () => (await status(n)).height >= height, `${n.name} at height ${height}`, 60_000)));
  /** One account's free balance as each validator serves it to the account's owner. */
  const freeOnEvery = (user: UserCli, key: string, address: string) =>
    Promise.all(manifest.nodes.map(async (n) => (await user.via(n.api).json('--from', key, 'query', 'pay', 'balances', address)).balances.find((b: any) => b.asset === ASSET)?.free ?? '0'));
  const escrowOnEvery = (user: UserCli, key: string, id: string) => Promise.all(manifest.nodes.map(async (n) => (await user.via(n.api).json('--from', key, 'query', 'escrow', 'show', id)).escrow));
  const deliveryWindow = (hoursAhead: number) => {
    const start = Math.floor(Date.now() / HOUR) * HOUR + hoursAhead * HOUR;
    return ['--delivery-start', String(start), '--delivery-end', String(start + HOUR)];
  };
  /** Polls `msg inbox` of one key through one node until a message for it is there. */
  const readInbox = (user: UserCli, key: string) =>
    waitFor(async () => {
      const inbox = await user.json('msg', 'inbox', '--keys', key);
      return inbox.messages.length > 0 ? inbox.messages : null;
    }, `a message for ${key} at ${user.node}`, 60_000, 250);

  it('members register identities; each admits an anonymous trade account from its own home with a ZK proof', async () => {
    await consortium.tx('admin', 'anon', 'register-key');
    await alice.tx('alice', 'anon', 'register');
    await bob.tx('bob', 'anon', 'register');
    const admitted = await alice.tx('s1', 'anon', 'admit', '--identity', 'alice-identity', '--slot', '0');
    seller = (await alice.json('keys', 'show', 's1')).address;
    expect(eventOf(admitted, 'anon.account_admitted').address).toBe(seller);
    await bob.tx('b1', 'anon', 'admit', '--identity', 'bob-identity', '--slot', '0');
    buyer = (await bob.json('keys', 'show', 'b1')).address;
    for (const a of [seller, buyer]) expect(Object.values(members)).not.toContain(a);
    await consortium.tx('bank', 'pay', 'create-asset', '--code', 'NOK', '--scope', 'microgrid', '--name', 'Microgrid kroner');
    const minted = await consortium.tx('bank', 'pay', 'mint', '--asset', ASSET, '--to', buyer, '--amount', String(MINTED), '--deposit-ref', 'PRIWATT-1');
    await everyValidatorAt(minted.height);
    for (const n of manifest.nodes) expect((await consortium.via(n.api).json('query', 'anon', 'account', seller)).account.status).toBe('active');
  }, 300_000);

  it('anonymous offer through node A; encrypted negotiation through nodes B and C; escrowed trade released after the grid operator confirms delivery', async () => {
    // the seller posts with a fresh per-trade messaging key
    const tradeKey = (await alice.json('msg', 'keys', 'add', 'trade-1')).address;
    expect(await alice.fails('--from', 's1', '--wait', 'tx', 'anon', 'offer', '--energy-wh', '4000', '--amount', '10000000', '--asset', ASSET, ...deliveryWindow(1), '--messaging-key', 'no-such-key')).toBe('CLI_INVALID_OPTION');
    const first = eventOf(await alice.tx('s1', 'anon', 'offer', '--energy-wh', '4000', '--amount', '10000000', '--asset', ASSET, ...deliveryWindow(1), '--messaging-key', 'trade-1'), 'anon.offer_posted').id;

    // the buyer finds it on the board through node B and writes to the offer's key, with its own reply key
    const board = (await bob.json('query', 'anon', 'offers', '--status', 'open')).offers;
    expect(board.map((o: any) => o.id)).toEqual([first]);
    const offered = board[0];
    expect(offered).toMatchObject({ seller, messagingKey: toHex(parseMessagingAddress(tradeKey)) });
    buyerReply = (await bob.json('msg', 'keys', 'add', 'reply-1')).address;
    const counter = `${first}: 4000 Wh for 9000000 µNOK?`;
    negotiation.push(counter);
    const sent = await bob.json('msg', 'send', '--to', offered.messagingKey, '--text', counter, '--reply-to', 'reply-1', '--ttl', '600');
    expect(sent.added).toBe(true);

    // the seller reads it through node C: it crossed the P2P network (node B's API took it)
    const atC = alice.via(nodeC.api);
    const [received] = await readInbox(atC, 'trade-1');
    expect(received).toMatchObject({ kind: 'sealed', key: 'trade-1', text: counter, replyTo: buyerReply, hash: sent.hash });
    expect(received.from).toBeUndefined(); // unsigned: anonymous even to the seller
    expect((await callRoute(nodeB.api, messagingRoutes.listMessages, { query: { after: 0 } })).messages.map((m) => m.hash)).toContain(sent.hash);

    // she agrees: withdraws the posted terms, posts the agreed ones, and answers through node C
    await alice.tx('s1', 'anon', 'withdraw-offer', first);
    const agreed = eventOf(await alice.tx('s1', 'anon', 'offer', '--energy-wh', '4000', '--amount', '9000000', '--asset', ASSET, ...deliveryWindow(1), '--messaging-key', 'trade-1'), 'anon.offer_posted').id;
    const answer = `agreed: take ${agreed}`;
    negotiation.push(answer);
    await atC.json('msg', 'send', '--to', received.replyTo, '--text', answer, '--ttl', '600');
    const [reply] = await readInbox(bob, 'reply-1');
    expect(reply).toMatchObject({ kind: 'sealed', key: 'reply-1', text: answer });

    // the buyer takes the agreed offer into a 2-of-3 escrow with the grid operator as mediator, through node B
    const escrow = eventOf(await bob.tx('b1', 'escrow', 'open', '--asset', ASSET, '--amount', '9000000', '--payee', seller, '--mediator', dso), 'payments.escrow_opened').id;
    await bob.tx('b1', 'anon', 'take', agreed, '--escrow', escrow);
    expect((await bob.json('query', 'anon', 'offer', agreed)).offer).toMatchObject({ status: 'taken', buyer, escrow, mediator: dso, amount: '9000000' });

    // delivery: the grid operator's metering shows it (node D); the seller approves too (node A): 2 of 3
    await consortium.tx('dso', 'escrow', 'approve', '--id', escrow, '--action', 'release');
    const released = await alice.tx('s1', 'escrow', 'approve', '--id', escrow, '--action', 'release');
    await everyValidatorAt(released.height);
    for (const e of await escrowOnEvery(alice, 's1', escrow)) expect(e).toMatchObject({ status: 'released', paidToPayee: '9000000' });
    expect(await freeOnEvery(alice, 's1', seller)).toEqual(Array(4).fill('9000000'));
    expect(await freeOnEvery(bob, 'b1', buyer)).toEqual(Array(4).fill(String(MINTED - 9_000_000)));
  }, 400_000);

  it('a disputed trade is split 70/30 by the grid operator and countersigned by the seller', async () => {
    const note = 'metered at substation 7';
    const offer = eventOf(await alice.tx('s1', 'anon', 'offer', '--energy-wh', '3000', '--amount', '8000000', '--asset', ASSET, ...deliveryWindow(2), '--note', note), 'anon.offer_posted').id;
    expect((await bob.json('query', 'anon', 'offer', offer)).offer).toMatchObject({ status: 'open', memo: note });
    const escrow = eventOf(await bob.tx('b1', 'escrow', 'open', '--asset', ASSET, '--amount', '8000000', '--payee', seller, '--mediator', dso), 'payments.escrow_opened').id;
    await bob.tx('b1', 'anon', 'take', offer, '--escrow', escrow);
    await bob.tx('b1', 'escrow', 'dispute', '--id', escrow, '--reason', 'metering shows 2100 of 3000 Wh');
    await consortium.tx('dso', 'escrow', 'propose-split', '--id', escrow, '--payee-amount', '5600000', '--payer-amount', '2400000');
    const split = await alice.tx('s1', 'escrow', 'countersign', '--id', escrow);
    await everyValidatorAt(split.height);
    for (const e of await escrowOnEvery(bob, 'b1', escrow)) expect(e).toMatchObject({ status: 'split', paidToPayee: '5600000', paidToPayer: '2400000' });
    expect(await freeOnEvery(alice, 's1', seller)).toEqual(Array(4).fill(String(9_000_000 + 5_600_000)));
    expect(await freeOnEvery(bob, 'b1', buyer)).toEqual(Array(4).fill(String(MINTED - 9_000_000 - 8_000_000 + 2_400_000)));
  }, 300_000);

  it('every validator holds the same state, and nothing on the ledger links an anonymous account to its member or holds the negotiation', async () => {
    const height = (await status(nodeA)).height;
    await everyValidatorAt(height);
    const roots = await Promise.all(manifest.nodes.map(async (n) => ((await callRoute(n.api, coreRoutes.getBlock, { params: { height } })).block as { header: { stateRoot: string } }).header.stateRoot));
    expect(new Set(roots).size).toBe(1);

    const commitment = (user: UserCli, name: string) => identityCommitment(identitySecret(openKeyring(user.home, 'test').secret(`${name}-identity`))).toString();
    const memberMarks = [members.alice!, members.bob!, commitment(alice, 'alice'), commitment(bob, 'bob')];
    const anonymous = [seller, buyer];

    // every state entry of every validator (read from its database while it runs)
    for (const n of manifest.nodes) {
      const db = new Database(paths(n.home).db, { readonly: true, fileMustExist: true });
      try {
        const state = db.prepare<[], { key: string; value: string }>('SELECT key, value FROM state ORDER BY key').all().map((r) => `${r.key}=${r.value}`);
        const naming = state.filter((e) => anonymous.some((a) => e.includes(a)));
        expect(naming.length).toBeGreaterThan(5);
        for (const e of naming) for (const mark of memberMarks) expect(e).not.toContain(mark);
        for (const e of state.filter((x) => memberMarks.some((m) => x.includes(m)))) for (const a of anonymous) expect(e).not.toContain(a);
        expect(state.join('\n')).not.toContain(toHex(parseMessagingAddress(buyerReply)));
      } finally {
        db.close();
      }
    }

    // every transaction of every block with its result and events, as any reader of the public API gets them
    const blocks = await Promise.all(Array.from({ length: height }, (_, i) => callRoute(nodeB.api, coreRoutes.getBlock, { params: { height: i + 1 } })));
    const txs = blocks.flatMap((b) => ((b.block as { txs: unknown[] }).txs ?? []).map((tx, i) => JSON.stringify([tx, b.results[i]])));
    const naming = txs.filter((t) => anonymous.some((a) => t.includes(a)));
    expect(naming.length).toBeGreaterThan(12);
    for (const t of naming) for (const mark of memberMarks) expect(t).not.toContain(mark);
    for (const t of txs.filter((x) => memberMarks.some((m) => x.includes(m)))) for (const a of anonymous) expect(t).not.toContain(a);
    const chain = JSON.stringify(blocks);
    expect(chain).toContain('"anon/offer"');
    for (const text of negotiation) expect(chain).not.toContain(text);
    expect(chain).not.toContain(toHex(parseMessagingAddress(buyerReply)));
  }, 120_000);
});
