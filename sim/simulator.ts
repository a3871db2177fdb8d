/**
 * Deterministic network simulator. Every node runs the production consensus driver
 * (src/runtime/driver.ts) and the production block sync (src/sync/blocksync.ts) behind simulated
 * ports: a virtual clock and timers, an in-memory WAL that can lose what was not fsynced, a toy
 * ledger (FakeApp) and a seeded network with delay, drop, duplication, reordering and partitions.
 * Faults: crash/restart at any WAL write point, twins (one key on two nodes), proposers that build
 * invalid blocks. Oracles independent of the engine check agreement, validity, single signing and
 * that no honest peer is ever penalised.
 */
import type { Commit } from '../src/codec/block.js';
import { BLOCK_ERRORS } from '../src/codec/errors.js';
import { type BlockContext, type BlockValidation, type Evidence, type Proposal, type Rejection, type RejectReason, type TimeoutParams, type Validator, type ValidatorSet, type Vote, type WalRecord, ValidatorSet as ValidatorSetClass, evidenceKey, status, verifyCommit } from '../src/consensus/index.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../src/crypto/ed25519.js';
import { sha256 } from '../src/crypto/hash.js';
import { ConsensusDriver, type ConsensusNetwork, type LedgerPort, type TimerHandle, type Timers, type WalPort } from '../src/runtime/driver.js';
import { BlockSync, type SyncRequest, type SyncStatus, type SyncTarget } from '../src/sync/blocksync.js';
import { toHex, utf8 } from '../src/util/bytes.js';
import { canonicalJson } from '../src/util/canonical.js';
import { FakeApp, type FakeBlock, GENESIS_ROOT, fakeBlockHash, nextStateRoot } from './fakeApp.js';
import { Prng } from './prng.js';

export const SIM_CHAIN_ID = 'gridledger-sim';
export const GENESIS_TIME = 1_700_000_000_000;

export type Message =
  | { kind: 'proposal'; proposal: Proposal; block: FakeBlock }
  | { kind: 'vote'; vote: Vote }
  | { kind: 'evidence'; evidence: Evidence }
  | { kind: 'status'; status: SyncStatus }
  | { kind: 'syncRequest'; request: SyncRequest }
  | { kind: 'syncResponse'; entries: SyncEntry[] };

export interface SyncEntry {
  block: FakeBlock;
  commit: Commit;
}

export interface NetworkOptions {
  minDelayMs: number;
  maxDelayMs: number;
  dropRate: number;
  duplicateRate: number;
}

export interface SimOptions {
  validators: number;
  seed: number;
  network?: Partial<NetworkOptions>;
  timeouts?: { propose: TimeoutParams; prevote: TimeoutParams; precommit: TimeoutParams };
  /** Validator index whose key also runs on an extra node with a different app (an equivocator). */
  twinOf?: number;
  /** Validator indices whose app proposes invalid blocks. */
  invalidProposers?: number[];
  /** Validator powers (default 10 each). */
  powers?: bigint[];
  gossipIntervalMs?: number;
  /** The driver's block time: how long after starting a height the next one starts. */
  commitDelayMs?: number;
}

export const SIM_TIMEOUTS = {
  propose: { baseMs: 300, deltaMs: 100 },
  prevote: { baseMs: 150, deltaMs: 50 },
  precommit: { baseMs: 150, deltaMs: 50 },
};

/** How often each node announces its height and asks for missing blocks (as the node's block sync reactor does). */
const SYNC_TICK_MS = 500;

interface StoredBlock {
  block: FakeBlock;
  blockHash: string;
  commit: Commit;
  time: number;
}

export interface CrashPlan {
  /** Crash right after this node's k-th WAL append (1-based), before the rest of the step's effects. */
  atWalWrite: number;
  /** 'lose-unsynced': records not yet fsynced vanish; 'keep-all': the OS had flushed them anyway. */
  mode: 'lose-unsynced' | 'keep-all';
  restartAfterMs: number;
}

export class SimNode {
  readonly index: number;
  readonly validatorIndex: number;
  readonly name: string;
  readonly address: string;
  readonly byzantine: boolean;
  readonly signer: Signer;
  readonly appOptions: ConstructorParameters<typeof FakeApp>[0];
  app: FakeApp;
  /** Durable storage: the chain and the WAL survive a crash (the WAL only up to its last fsync, per the crash mode). */
  chain: StoredBlock[] = [];
  wal: WalRecord<FakeBlock>[] = [];
  walSynced = 0;
  walWrites = 0;
  alive = true;
  /** Bumped at each crash and restart: timers and messages of a previous life never arrive. */
  epoch = 0;
  crashPlan: CrashPlan | null = null;
  crashes = 0;
  /** Round the node was in when the network last healed, per height (for the liveness bound). */
  healMark: { height: number; round: number } | null = null;
  roundsAfterHeal: number | null = null;
  driver!: ConsensusDriver<FakeBlock>;
  sync!: BlockSync<FakeBlock>;

  constructor(index: number, validatorIndex: number, seed: Uint8Array, byzantine: boolean, appOptions: ConstructorParameters<typeof FakeApp>[0]) {
    this.index = index;
    this.validatorIndex = validatorIndex;
    const kp = keyPairFromSeed(seed);
    this.address = addressFromPublicKey(kp.publicKey);
    this.signer = new Signer(kp.secretKey);
    this.name = `node${index}${byzantine ? '-twin' : ''}`;
    this.byzantine = byzantine;
    this.appOptions = appOptions;
    this.app = new FakeApp(appOptions);
  }

  get height(): number {
    return this.chain.length;
  }

  /** The engine state of the running driver. */
  get state() {
    return this.driver.consensusState;
  }

  get peerId(): string {
    return this.name;
  }
}

export interface Violation {
  kind: 'agreement' | 'validity' | 'double-sign' | 'penalised-honest-peer' | 'engine-error';
  detail: string;
}

export function validatorSeed(i: number): Uint8Array {
  return sha256(utf8(`gridledger-sim-validator-${i}`));
}

export function simValidators(n: number, powers?: bigint[]): Validator[] {
  return Array.from({ length: n }, (_, i) => {
    const kp = keyPairFromSeed(validatorSeed(i));
    return { address: addressFromPublicKey(kp.publicKey), pubKey: toHex(kp.publicKey), power: powers?.[i] ?? 10n };
  });
}

export class Simulator {
  readonly options: SimOptions;
  readonly net: NetworkOptions;
  readonly rng: Prng;
  readonly nodes: SimNode[] = [];
  readonly validators: Validator[];
  readonly byzantineAddresses = new Set<string>();
  now = 0;
  #seq = 0;
  #queue: { time: number; seq: number; run: () => void }[] = [];
  #groups: number[][] | null = null;
  #valsets: ValidatorSet[] = [];
  /** Every signed proposal/vote that reached the network, by signer/height/round/step. */
  readonly #signed = new Map<string, string>();
  readonly violations: Violation[] = [];
  readonly rejections = new Map<RejectReason, number>();
  readonly evidenceDetected: Evidence[] = [];
  readonly messagesSent: Message[] = [];
  delivered = 0;
  readonly deliveredByKind = new Map<string, number>();
  syncApplied = 0;
  syncRejected: string[] = [];
  /** Tests: messages for which this returns true are lost on the way (a targeted fault, e.g. a link down for some votes). */
  lose: ((from: SimNode, to: SimNode, msg: Message) => boolean) | null = null;

  constructor(options: SimOptions) {
    this.options = options;
    this.net = { minDelayMs: 5, maxDelayMs: 40, dropRate: 0, duplicateRate: 0, ...options.network };
    this.rng = new Prng(options.seed);
    this.validators = simValidators(options.validators, options.powers);
    this.#valsets = [ValidatorSetClass.genesis(this.validators)];
    for (let i = 0; i < options.validators; i++) {
      const invalid = options.invalidProposers?.includes(i) ?? false;
      this.nodes.push(new SimNode(i, i, validatorSeed(i), false, { buildsInvalidBlocks: invalid }));
    }
    if (options.twinOf !== undefined) {
      const t = options.twinOf;
      this.nodes.push(new SimNode(this.nodes.length, t, validatorSeed(t), true, { flavour: 'twin' }));
      this.byzantineAddresses.add(this.nodes[t]!.address);
    }
    for (const node of this.nodes) this.#boot(node);
  }

  honestNodes(): SimNode[] {
    return this.nodes.filter((n) => !n.byzantine && !this.byzantineAddresses.has(n.address));
  }

  valsetAt(height: number): ValidatorSet {
    while (this.#valsets.length < height) this.#valsets.push(this.#valsets[this.#valsets.length - 1]!.nextHeight());
    return this.#valsets[height - 1]!;
  }

  /** The nodes' clock: virtual time offset to the genesis time, so vote timestamps look like Unix ms. */
  clock(): number {
    return GENESIS_TIME + this.now;
  }

  // ── scheduling ──

  at(time: number, run: () => void): void {
    this.#push(time, run);
  }

  after(delay: number, run: () => void): void {
    this.#push(this.now + delay, run);
  }

  #push(time: number, run: () => void): void {
    const item = { time, seq: this.#seq++, run };
    const q = this.#queue;
    q.push(item);
    let i = q.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (before(q[parent]!, q[i]!)) break;
      [q[parent], q[i]] = [q[i]!, q[parent]!];
      i = parent;
    }
  }

  #pop(): { time: number; seq: number; run: () => void } | undefined {
    const q = this.#queue;
    const top = q[0];
    const last = q.pop();
    if (q.length > 0 && last) {
      q[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < q.length && before(q[l]!, q[m]!)) m = l;
        if (r < q.length && before(q[r]!, q[m]!)) m = r;
        if (m === i) break;
        [q[m], q[i]] = [q[i]!, q[m]!];
        i = m;
      }
    }
    return top;
  }

  /** Runs until `done()` holds or virtual time passes `maxTimeMs`. Returns whether `done()` held. */
  runUntil(done: () => boolean, maxTimeMs: number): boolean {
    while (!done()) {
      const item = this.#pop();
      if (!item || item.time > maxTimeMs) {
        if (item) this.#push(item.time, item.run);
        return false;
      }
      this.now = Math.max(this.now, item.time);
      item.run();
    }
    return true;
  }

  runFor(ms: number): void {
    const end = this.now + ms;
    this.runUntil(() => false, end);
    this.now = end;
  }

  // ── lifecycle ──

  start(): void {
    for (const node of this.nodes) this.#guard(node, () => node.driver.start());
  }

  crash(node: SimNode): void {
    if (!node.alive) return;
    node.alive = false;
    node.epoch++;
    node.crashes++;
    node.driver.stop();
  }

  /** Restart as a fresh process: the app is rebuilt from the stored chain, the driver replays the WAL. */
  restart(node: SimNode): void {
    if (node.alive) return;
    node.alive = true;
    node.app = new FakeApp(node.appOptions);
    for (const b of node.chain) node.app.apply(b.block, b.blockHash);
    this.#boot(node);
    this.#guard(node, () => node.driver.start());
  }

  partition(groups: number[][]): void {
    this.#groups = groups;
  }

  heal(): void {
    this.#groups = null;
    for (const node of this.nodes) {
      const st = node.alive ? status(node.state) : null;
      node.healMark = st ? { height: st.height, round: st.round } : null;
      node.roundsAfterHeal = null;
    }
  }

  #connected(a: number, b: number): boolean {
    if (!this.#groups) return true;
    return this.#groups.some((g) => g.includes(a) && g.includes(b));
  }

  /** A node process: the production driver and block sync over this node's simulated ports. */
  #boot(node: SimNode): void {
    node.epoch++;
    const epoch = node.epoch;
    const ledger = new SimLedger(this, node);
    node.driver = new ConsensusDriver<FakeBlock>({
      ledger,
      wal: new MemoryWal(this, node),
      timers: new VirtualTimers(this, node, epoch),
      sign: (bytes) => node.signer.sign(bytes),
      timing: { blockTimeMs: this.options.commitDelayMs ?? 10, emptyBlockIntervalMs: 60_000 },
      timeouts: this.options.timeouts ?? SIM_TIMEOUTS,
      gossipIntervalMs: this.options.gossipIntervalMs ?? 200,
      observer: {
        rejection: (r) => this.#onRejection(r),
        evidence: (e) => this.evidenceDetected.push(e),
      },
      onFatal: (err) => this.violations.push({ kind: 'engine-error', detail: `${node.name} halted: ${err.message}` }),
    });
    node.driver.setNetwork(new SimNetwork(this, node));
    node.sync = new BlockSync<FakeBlock>(
      ledger,
      {
        sendStatus: (s) => this.#broadcast(node, { kind: 'status', status: s }),
        sendRequest: (peer, request) => this.#sendTo(node, peer, { kind: 'syncRequest', request }),
        sendResponse: (peer, blocks) => this.#sendTo(node, peer, { kind: 'syncResponse', entries: blocks }),
        penalize: (peer, reason) => this.penalize(node, peer, reason),
        connectedPeers: () => this.nodes.filter((n) => n !== node && this.#connected(n.index, node.index)).map((n) => n.peerId),
      },
      {
        batchSize: 20,
        maxResponseBytes: 1 << 20,
        maxBufferedBytes: 16 << 20,
        requestTimeoutMs: 2000,
        clock: () => this.clock(),
        heightOf: (block) => block.height,
        sizeOf: (entry) => canonicalJson(entry).length,
        onApplied: (n) => {
          this.syncApplied += n;
          this.#guard(node, () => node.driver.afterSync());
        },
      },
    );
    this.#syncTick(node, epoch);
  }

  #syncTick(node: SimNode, epoch: number): void {
    this.after(SYNC_TICK_MS, () => {
      if (node.epoch !== epoch || !node.alive) return;
      node.sync.announce();
      node.sync.maybeRequest();
      this.#syncTick(node, epoch);
    });
  }

  /** Runs driver code of a node, turning an exception into an engine-error violation (the node process would die). */
  #guard(node: SimNode, run: () => void): void {
    try {
      run();
    } catch (err) {
      this.violations.push({ kind: 'engine-error', detail: `${node.name}: ${String(err)}` });
    }
  }

  #onRejection(rejection: Rejection): void {
    this.rejections.set(rejection.reason, (this.rejections.get(rejection.reason) ?? 0) + 1);
  }

  /** A node penalised a peer: an honest peer must never be penalised. */
  penalize(by: SimNode, peerId: string, reason: string): void {
    const peer = this.nodes.find((n) => n.peerId === peerId);
    if (!peer) return;
    if (!peer.byzantine && !this.byzantineAddresses.has(peer.address)) {
      this.violations.push({ kind: 'penalised-honest-peer', detail: `${by.name} penalised ${peer.name}: ${reason}` });
    }
  }

  /** The double-sign oracle: an honest key never signs two different things at one height/round/step. */
  recordSigned(node: SimNode, signer: string, key: string, content: string): void {
    const seen = this.#signed.get(key);
    if (seen === undefined) this.#signed.set(key, content);
    else if (seen !== content && !this.byzantineAddresses.has(signer)) {
      this.violations.push({ kind: 'double-sign', detail: `${node.name} signed ${key} as ${content} after ${seen}` });
    }
  }

  /** Stores a decided or synced block on a node, after the independent validity oracle looked at it. */
  store(node: SimNode, entry: StoredBlock): void {
    this.#checkValidity(node, entry);
    node.app.apply(entry.block, entry.blockHash);
    node.chain.push(entry);
  }

  /** The validity oracle, independent of the engine: structure, hash chain, time, no invalid tx. */
  #checkValidity(node: SimNode, entry: StoredBlock): void {
    const prev = node.chain[node.chain.length - 1];
    const b = entry.block;
    const problems: string[] = [];
    if (b.height !== node.chain.length + 1) problems.push('height');
    if (fakeBlockHash(b) !== entry.blockHash) problems.push('hash');
    if (b.prevHash !== (prev?.blockHash ?? null)) problems.push('prevHash');
    if (b.txs.some((t) => t.startsWith('INVALID'))) problems.push('invalid tx');
    if (b.stateRoot !== nextStateRoot(prev?.block.stateRoot ?? GENESIS_ROOT, b.txs)) problems.push('stateRoot');
    if (prev && !(b.time > prev.time)) problems.push('time not increasing');
    if (!verifyCommit(entry.commit, this.valsetAt(b.height), SIM_CHAIN_ID, { height: b.height, blockHash: entry.blockHash }).ok) problems.push('commit');
    if (problems.length > 0) this.violations.push({ kind: 'validity', detail: `${node.name} height ${b.height}: ${problems.join(', ')}` });
  }

  // ── network ──

  broadcastFrom(from: SimNode, msg: Message): void {
    this.#broadcast(from, msg);
  }

  #broadcast(from: SimNode, msg: Message): void {
    if (msg.kind === 'vote' || msg.kind === 'proposal' || msg.kind === 'evidence') this.messagesSent.push(msg);
    for (const to of this.nodes) if (to !== from) this.#send(from, to, msg);
  }

  #sendTo(from: SimNode, peerId: string, msg: Message): void {
    const to = this.nodes.find((n) => n.peerId === peerId);
    if (to) this.#send(from, to, msg);
  }

  /** A message on a connection: lost on a partition or a restart of either end (the connection breaks). */
  #send(from: SimNode, to: SimNode, msg: Message): void {
    if (!from.alive || !this.#connected(from.index, to.index) || this.lose?.(from, to, msg) || this.rng.chance(this.net.dropRate)) return;
    const copies = this.rng.chance(this.net.duplicateRate) ? 2 : 1;
    const fromEpoch = from.epoch;
    const toEpoch = to.epoch;
    for (let c = 0; c < copies; c++) {
      this.after(this.rng.int(this.net.minDelayMs, this.net.maxDelayMs), () => {
        if (from.epoch !== fromEpoch || to.epoch !== toEpoch) return;
        if (this.#connected(from.index, to.index)) this.deliver(to, msg, from);
      });
    }
  }

  /** Delivers a message to a node (also used by tests to inject replayed or forged traffic). */
  deliver(to: SimNode, msg: Message, from?: SimNode): void {
    if (!to.alive) return;
    this.delivered++;
    this.deliveredByKind.set(msg.kind, (this.deliveredByKind.get(msg.kind) ?? 0) + 1);
    const peer = from?.peerId ?? '';
    const now = this.clock();
    this.#guard(to, () => {
      switch (msg.kind) {
        case 'proposal':
          return to.driver.onPeerMessage({ type: 'proposal', now, proposal: msg.proposal, block: msg.block }, peer);
        case 'vote':
          return to.driver.onPeerMessage({ type: 'vote', now, vote: msg.vote }, peer);
        case 'evidence':
          return void to.driver.handle({ type: 'evidence', now, evidence: msg.evidence }, peer);
        case 'status':
          return from && to.sync.onStatus(peer, msg.status);
        case 'syncRequest':
          return from && to.sync.onRequest(peer, msg.request);
        case 'syncResponse':
          return from && to.sync.onResponse(peer, msg.entries);
      }
    });
  }

  /**
   * Feeds blocks to a node the way block sync applies them (commit verified against the validator
   * set the node knows, block re-executed), stopping at the first bad one; for tests of that check.
   */
  applySync(node: SimNode, entries: readonly SyncEntry[]): number {
    let applied = 0;
    for (const { block, commit } of entries) {
      try {
        new SimLedger(this, node).applySyncedBlock(block, commit);
        applied++;
      } catch (err) {
        this.syncRejected.push((err as Error).message);
        break;
      }
    }
    if (applied > 0) this.syncApplied += applied;
    return applied;
  }

  // ── reports ──

  minHonestHeight(nodes = this.honestNodes()): number {
    return Math.min(...nodes.map((n) => n.height));
  }

  /** Agreement: at every height, every honest node stored the same block hash and state root. */
  checkAgreement(): void {
    const honest = this.honestNodes();
    const maxHeight = Math.max(...honest.map((n) => n.height));
    for (let h = 1; h <= maxHeight; h++) {
      const seen = new Map<string, string>();
      for (const n of honest) {
        const b = n.chain[h - 1];
        if (b) seen.set(`${b.blockHash}/${b.block.stateRoot}`, n.name);
      }
      if (seen.size > 1) this.violations.push({ kind: 'agreement', detail: `height ${h}: ${[...seen.entries()].map(([k, v]) => `${v}=${k.slice(0, 12)}`).join(' ')}` });
    }
  }
}

/** The ledger port and block-sync target of a simulated node: its FakeApp and stored chain. */
class SimLedger implements LedgerPort<FakeBlock>, SyncTarget<FakeBlock> {
  readonly chainId = SIM_CHAIN_ID;
  readonly genesisTime = GENESIS_TIME;
  readonly validatorAddress: string;

  constructor(
    private readonly sim: Simulator,
    private readonly node: SimNode,
  ) {
    this.validatorAddress = node.address;
  }

  get height(): number {
    return this.node.chain.length;
  }

  get latestBlockTime(): number {
    return this.node.chain[this.node.chain.length - 1]?.time ?? GENESIS_TIME;
  }

  storedBlock(height: number): { hash: string; time: number; commit: Commit } | undefined {
    const s = this.node.chain[height - 1];
    return s ? { hash: s.blockHash, time: s.time, commit: s.commit } : undefined;
  }

  valsetAt(height: number): ValidatorSet {
    return this.sim.valsetAt(height);
  }

  committedEvidence(fromHeight: number): string[] {
    return this.node.chain.flatMap((s) => s.block.evidence.filter((ev) => ev.voteA.height >= fromHeight).map(evidenceKey));
  }

  buildBlock(ctx: BlockContext): { blockHash: string; block: FakeBlock } {
    return this.node.app.buildBlock(ctx);
  }

  validateBlock(height: number, block: FakeBlock): BlockValidation {
    return this.node.app.validateBlock(height, block);
  }

  commitDecided(block: FakeBlock, commit: Commit): void {
    const validation = this.node.app.validateBlock(block.height, block);
    if (!validation.ok) throw BLOCK_ERRORS.BLOCK_INVALID(`decided block failed re-execution: ${validation.reason}`);
    this.sim.store(this.node, { block, blockHash: validation.blockHash, commit, time: block.time });
    const node = this.node;
    if (node.healMark && node.roundsAfterHeal === null) {
      node.roundsAfterHeal = commit.height === node.healMark.height ? commit.round - node.healMark.round : commit.round;
    }
    node.sync.announce();
  }

  hasIncludableTxs(): boolean {
    return true;
  }

  hasPendingTxs(): boolean {
    return true;
  }

  pendingTxCount(): number {
    return Number.MAX_SAFE_INTEGER;
  }

  latestHash(): string {
    return this.node.chain[this.node.chain.length - 1]?.blockHash ?? '';
  }

  getBlock(height: number): { block: FakeBlock; commit: Commit } | undefined {
    const s = this.node.chain[height - 1];
    return s ? { block: s.block, commit: s.commit } : undefined;
  }

  /** As the node's LedgerNode does: the commit must verify against the known validator set, the block re-execute. */
  applySyncedBlock(block: FakeBlock, commit: Commit): void {
    const height = this.height + 1;
    if (block.height !== height) throw BLOCK_ERRORS.BLOCK_SYNC_UNAPPENDABLE(`block ${block.height}: expected height ${height}`);
    const validation = this.node.app.validateBlock(height, block);
    if (!validation.ok) throw BLOCK_ERRORS.BLOCK_SYNC_INVALID_BLOCK(`block ${block.height}: ${validation.reason}`);
    const check = verifyCommit(commit, this.sim.valsetAt(height), SIM_CHAIN_ID, { height, blockHash: validation.blockHash });
    if (!check.ok) throw BLOCK_ERRORS.BLOCK_SYNC_BAD_COMMIT(`commit ${block.height}: ${check.reason}`);
    this.sim.store(this.node, { block, blockHash: validation.blockHash, commit, time: block.time });
    if (this.node.healMark && this.node.roundsAfterHeal === null) this.node.roundsAfterHeal = 0; // caught up without needing a round
  }
}

/** The WAL of a simulated node: durable up to the last sync; a crash plan can kill the node right after an append. */
class MemoryWal implements WalPort<FakeBlock> {
  constructor(
    private readonly sim: Simulator,
    private readonly node: SimNode,
  ) {}

  read(): { records: WalRecord<FakeBlock>[]; droppedTail: boolean } {
    return { records: [...this.node.wal], droppedTail: false };
  }

  append(record: WalRecord<FakeBlock>): void {
    const node = this.node;
    node.wal.push(record);
    node.walWrites++;
    const plan = node.crashPlan;
    if (!plan || node.walWrites !== plan.atWalWrite) return;
    node.crashPlan = null;
    this.sim.crash(node);
    if (plan.mode === 'lose-unsynced') node.wal = node.wal.slice(0, node.walSynced);
    this.sim.after(plan.restartAfterMs, () => this.sim.restart(node));
  }

  sync(): void {
    this.node.walSynced = this.node.wal.length;
  }

  reset(): void {
    this.node.wal = [];
    this.node.walSynced = 0;
  }

  close(): void {
    /* nothing to release */
  }
}

/** Virtual timers of one node process: they fire on the simulator's clock and die with the process. */
class VirtualTimers implements Timers {
  #next = 0;
  readonly #cancelled = new Set<number>();

  constructor(
    private readonly sim: Simulator,
    private readonly node: SimNode,
    private readonly epoch: number,
  ) {}

  now(): number {
    return this.sim.clock();
  }

  setTimeout(run: () => void, ms: number): TimerHandle {
    const id = ++this.#next;
    this.sim.after(ms, () => {
      if (this.#cancelled.delete(id) || this.node.epoch !== this.epoch || !this.node.alive) return;
      try {
        run();
      } catch (err) {
        this.sim.violations.push({ kind: 'engine-error', detail: `${this.node.name}: ${String(err)}` });
      }
    });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#cancelled.add(handle as number);
  }
}

/** The consensus network port of a simulated node; it also feeds the double-sign oracle. */
class SimNetwork implements ConsensusNetwork<FakeBlock> {
  constructor(
    private readonly sim: Simulator,
    private readonly node: SimNode,
  ) {}

  broadcastProposal(p: Proposal, block: FakeBlock): void {
    this.sim.recordSigned(this.node, p.proposer, `${p.proposer}/${p.height}/${p.round}/proposal`, `${p.blockHash}/${p.polRound}`);
    this.sim.broadcastFrom(this.node, { kind: 'proposal', proposal: p, block });
  }

  broadcastVote(vote: Vote): void {
    this.sim.recordSigned(this.node, vote.validator, `${vote.validator}/${vote.height}/${vote.round}/${vote.type}`, String(vote.blockHash));
    this.sim.broadcastFrom(this.node, { kind: 'vote', vote });
  }

  broadcastEvidence(evidence: Evidence): void {
    this.sim.broadcastFrom(this.node, { kind: 'evidence', evidence });
  }

  penalize(peerId: string, reason: string): void {
    this.sim.penalize(this.node, peerId, reason);
  }

  behind(height: number): void {
    this.node.sync.hintHeight(undefined, height);
  }
}

function before(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
