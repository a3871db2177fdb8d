/**
 * Deterministic network simulator for the consensus engine: a virtual clock, a seeded network with
 * delay, drop, duplication, reordering and partitions, crash/restart at any WAL write point, twins
 * (one key on two nodes), and a driver per node that honours the engine's effect contract
 * (fsync of the WAL before any own broadcast). Block sync and commit-certificate catch-up are done
 * here as the real node would: every commit is checked with verifyCommit before a block is applied.
 */
import { sha256 } from '../src/crypto/hash.js';
import { Signer, keyPairFromSeed } from '../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { toHex, utf8 } from '../src/util/bytes.js';
import {
  type Consensus,
  type ConsensusApp,
  type ConsensusEvent,
  type ConsensusState,
  type Effect,
  type HeightContext,
  type RejectReason,
  type TimeoutParams,
  type WalRecord,
  DEFAULT_MAX_ROUNDS_AHEAD,
  createConsensus,
  gossipMessages,
  status,
} from '../src/consensus/engine.js';
import { replay } from '../src/consensus/wal.js';
import { type Commit, type Evidence, type Proposal, type Validator, type Vote, ValidatorSet, verifyCommit } from '../src/consensus/index.js';
import { FakeApp, type FakeBlock, GENESIS_ROOT, fakeBlockHash, nextStateRoot } from './fakeApp.js';
import { Prng } from './prng.js';

export const SIM_CHAIN_ID = 'gridledger-sim';
export const GENESIS_TIME = 1_700_000_000_000;

export type Message =
  | { kind: 'proposal'; proposal: Proposal; block: FakeBlock }
  | { kind: 'vote'; vote: Vote }
  | { kind: 'evidence'; evidence: Evidence }
  | { kind: 'certificate'; block: FakeBlock; commit: Commit }
  | { kind: 'syncRequest'; fromHeight: number }
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
  /** Validator powers (default 1 each, or 10 for every validator). */
  powers?: bigint[];
  gossipIntervalMs?: number;
  commitDelayMs?: number;
}

export const SIM_TIMEOUTS = {
  propose: { baseMs: 300, deltaMs: 100 },
  prevote: { baseMs: 150, deltaMs: 50 },
  precommit: { baseMs: 150, deltaMs: 50 },
};

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
  readonly engine: Consensus<FakeBlock>;
  state: ConsensusState<FakeBlock>;
  app: FakeApp;
  readonly appOptions: ConstructorParameters<typeof FakeApp>[0];
  chain: StoredBlock[] = [];
  wal: WalRecord<FakeBlock>[] = [];
  walSynced = 0;
  walWrites = 0;
  alive = true;
  /** Bumped at each crash, so timers of a previous life never fire. */
  epoch = 0;
  crashPlan: CrashPlan | null = null;
  crashes = 0;
  /** Round the node was in when the network last healed, per height (for the liveness bound). */
  healMark: { height: number; round: number } | null = null;
  roundsAfterHeal: number | null = null;
  lastHelp = new Map<string, number>();

  constructor(index: number, validatorIndex: number, seed: Uint8Array, engineFor: (address: string, signer: Signer) => Consensus<FakeBlock>, byzantine: boolean, appOptions: ConstructorParameters<typeof FakeApp>[0]) {
    this.index = index;
    this.validatorIndex = validatorIndex;
    const kp = keyPairFromSeed(seed);
    this.address = addressFromPublicKey(kp.publicKey);
    this.name = `node${index}${byzantine ? '-twin' : ''}`;
    this.byzantine = byzantine;
    this.engine = engineFor(this.address, new Signer(kp.secretKey));
    this.state = this.engine.initialState();
    this.appOptions = appOptions;
    this.app = new FakeApp(appOptions);
  }

  get height(): number {
    return this.chain.length;
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

  constructor(options: SimOptions) {
    this.options = options;
    this.net = { minDelayMs: 5, maxDelayMs: 40, dropRate: 0, duplicateRate: 0, ...options.network };
    this.rng = new Prng(options.seed);
    this.validators = simValidators(options.validators, options.powers);
    this.#valsets = [ValidatorSet.genesis(this.validators)];
    const engineFor = (address: string, signer: Signer) =>
      createConsensus<FakeBlock>(
        { chainId: SIM_CHAIN_ID, self: address, timeouts: options.timeouts ?? SIM_TIMEOUTS, maxRoundsAhead: DEFAULT_MAX_ROUNDS_AHEAD },
        { app: this.#appProxy(), sign: (bytes) => signer.sign(bytes) },
      );
    for (let i = 0; i < options.validators; i++) {
      const invalid = options.invalidProposers?.includes(i) ?? false;
      this.nodes.push(new SimNode(i, i, validatorSeed(i), engineFor, false, { buildsInvalidBlocks: invalid }));
    }
    if (options.twinOf !== undefined) {
      const t = options.twinOf;
      this.nodes.push(new SimNode(this.nodes.length, t, validatorSeed(t), engineFor, true, { flavour: 'twin' }));
      this.byzantineAddresses.add(this.nodes[t]!.address);
    }
  }

  /** Engines get the app of the node currently stepping (the app is per node, the engine factory is shared). */
  #current: SimNode | null = null;
  #appProxy(): ConsensusApp<FakeBlock> {
    return {
      buildBlock: (ctx) => this.#current!.app.buildBlock(ctx),
      validateBlock: (h, b) => this.#current!.app.validateBlock(h, b),
    };
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
    for (const node of this.nodes) this.#startHeight(node, 1);
    this.#scheduleGossip();
  }

  #scheduleGossip(): void {
    const interval = this.options.gossipIntervalMs ?? 200;
    this.after(interval, () => {
      for (const node of this.nodes) {
        if (!node.alive) continue;
        for (const e of gossipMessages(node.state)) this.#broadcastMessage(node, e);
      }
      this.#scheduleGossip();
    });
  }

  contextFor(height: number, chain: StoredBlock[]): HeightContext {
    const prev = chain[height - 2];
    return {
      height,
      validators: this.valsetAt(height),
      previous: prev ? { blockHash: prev.blockHash, time: prev.time, commit: prev.commit, validators: this.valsetAt(height - 1) } : null,
      genesisTime: GENESIS_TIME,
    };
  }

  #startHeight(node: SimNode, height: number): void {
    this.#step(node, { type: 'start', now: this.clock(), context: this.contextFor(height, node.chain) });
  }

  crash(node: SimNode): void {
    if (!node.alive) return;
    node.alive = false;
    node.epoch++;
    node.crashes++;
  }

  /** Restart from durable storage (the chain) and the WAL, as the node driver does. */
  restart(node: SimNode): void {
    if (node.alive) return;
    node.alive = true;
    node.epoch++;
    node.app = new FakeApp(node.appOptions);
    for (const b of node.chain) node.app.apply(b.block, b.blockHash);
    this.#withNode(node, () => {
      const result = replay(node.engine, node.wal);
      node.state = result.state;
      if (result.height === null || node.height >= result.height) {
        this.#startHeight(node, node.height + 1);
      } else {
        this.#execute(node, result.effects);
      }
    });
  }

  partition(groups: number[][]): void {
    this.#groups = groups;
  }

  heal(): void {
    this.#groups = null;
    for (const node of this.nodes) {
      const st = status(node.state);
      node.healMark = st ? { height: st.height, round: st.round } : null;
      node.roundsAfterHeal = null;
    }
  }

  #connected(a: number, b: number): boolean {
    if (!this.#groups) return true;
    return this.#groups.some((g) => g.includes(a) && g.includes(b));
  }

  // ── stepping the engine and executing effects ──

  #withNode<T>(node: SimNode, run: () => T): T {
    const previous = this.#current;
    this.#current = node;
    try {
      return run();
    } finally {
      this.#current = previous;
    }
  }

  #step(node: SimNode, event: ConsensusEvent<FakeBlock>, from?: SimNode): void {
    if (!node.alive) return;
    const result = this.#withNode(node, () => {
      try {
        return node.engine.step(node.state, event);
      } catch (err) {
        this.violations.push({ kind: 'engine-error', detail: `${node.name}: ${String(err)}` });
        return null;
      }
    });
    if (!result) return;
    node.state = result.state;
    if (result.rejection) this.#onRejection(node, result.rejection, from);
    this.#execute(node, result.effects);
  }

  #onRejection(node: SimNode, rejection: NonNullable<ReturnType<Consensus<FakeBlock>['step']>['rejection']>, from?: SimNode): void {
    this.rejections.set(rejection.reason, (this.rejections.get(rejection.reason) ?? 0) + 1);
    if (!from) return;
    if (rejection.peerFault && !from.byzantine && !this.byzantineAddresses.has(from.address)) {
      this.violations.push({ kind: 'penalised-honest-peer', detail: `${node.name} penalised ${from.name}: ${rejection.reason} ${rejection.detail}` });
    }
    const h = rejection.height;
    if (rejection.reason === 'old-height' && h !== undefined) this.#helpLaggard(node, from, h);
    if (rejection.reason === 'future-height' && !rejection.buffered) this.#requestSync(node, from);
  }

  /** A peer still works on a height we decided: send it that block with its commit (rate limited). */
  #helpLaggard(node: SimNode, peer: SimNode, height: number): void {
    const stored = node.chain[height - 1];
    if (!stored) return;
    const key = `cert/${peer.index}/${height}`;
    if ((node.lastHelp.get(key) ?? -Infinity) > this.now - 100) return;
    node.lastHelp.set(key, this.now);
    this.#send(node, peer, { kind: 'certificate', block: stored.block, commit: stored.commit });
  }

  #requestSync(node: SimNode, peer: SimNode): void {
    const key = `sync/${peer.index}`;
    if ((node.lastHelp.get(key) ?? -Infinity) > this.now - 200) return;
    node.lastHelp.set(key, this.now);
    this.#send(node, peer, { kind: 'syncRequest', fromHeight: node.height + 1 });
  }

  #execute(node: SimNode, effects: readonly Effect<FakeBlock>[]): void {
    const epoch = node.epoch;
    for (const effect of effects) {
      if (!node.alive || node.epoch !== epoch) return; // crashed in the middle of the step
      this.#executeOne(node, effect);
    }
  }

  #executeOne(node: SimNode, effect: Effect<FakeBlock>): void {
    switch (effect.type) {
      case 'walWrite':
        node.wal.push(effect.record);
        node.walWrites++;
        this.#maybeCrashAtWalWrite(node);
        return;
      case 'broadcastProposal':
      case 'broadcastVote':
        node.walSynced = node.wal.length; // fsync before any own message leaves the node
        this.#broadcastMessage(node, effect);
        return;
      case 'scheduleTimeout': {
        const epoch = node.epoch;
        this.after(effect.durationMs, () => {
          if (node.epoch !== epoch) return;
          this.#step(node, { type: 'timeout', now: this.clock(), height: effect.height, round: effect.round, step: effect.step });
        });
        return;
      }
      case 'commit':
        this.#applyCommit(node, effect);
        return;
      case 'evidence':
        this.evidenceDetected.push(effect.evidence);
        this.#broadcast(node, { kind: 'evidence', evidence: effect.evidence });
        return;
    }
  }

  #maybeCrashAtWalWrite(node: SimNode): void {
    const plan = node.crashPlan;
    if (!plan || node.walWrites !== plan.atWalWrite) return;
    node.crashPlan = null;
    this.crash(node);
    if (plan.mode === 'lose-unsynced') node.wal = node.wal.slice(0, node.walSynced);
    this.after(plan.restartAfterMs, () => this.restart(node));
  }

  #broadcastMessage(node: SimNode, effect: Effect<FakeBlock>): void {
    if (effect.type === 'broadcastVote') {
      this.#recordSigned(node, effect.vote.validator, `${effect.vote.validator}/${effect.vote.height}/${effect.vote.round}/${effect.vote.type}`, String(effect.vote.blockHash));
      this.#broadcast(node, { kind: 'vote', vote: effect.vote });
    } else if (effect.type === 'broadcastProposal') {
      const p = effect.proposal;
      this.#recordSigned(node, p.proposer, `${p.proposer}/${p.height}/${p.round}/proposal`, `${p.blockHash}/${p.polRound}`);
      this.#broadcast(node, { kind: 'proposal', proposal: p, block: effect.block });
    }
  }

  /** The double-sign oracle: an honest key never signs two different things at one height/round/step. */
  #recordSigned(node: SimNode, signer: string, key: string, content: string): void {
    const seen = this.#signed.get(key);
    if (seen === undefined) this.#signed.set(key, content);
    else if (seen !== content && !this.byzantineAddresses.has(signer)) {
      this.violations.push({ kind: 'double-sign', detail: `${node.name} signed ${key} as ${content} after ${seen}` });
    }
  }

  #applyCommit(node: SimNode, effect: Extract<Effect<FakeBlock>, { type: 'commit' }>): void {
    if (effect.height <= node.height) return; // already stored before a crash
    this.#store(node, { block: effect.block, blockHash: effect.blockHash, commit: effect.commit, time: effect.time });
    if (node.healMark && node.roundsAfterHeal === null) {
      node.roundsAfterHeal = effect.height === node.healMark.height ? effect.round - node.healMark.round : effect.round;
    }
    const epoch = node.epoch;
    const height = node.height + 1;
    this.after(this.options.commitDelayMs ?? 0, () => {
      if (node.epoch === epoch && node.alive && node.height + 1 === height) this.#startHeight(node, height);
    });
  }

  #store(node: SimNode, entry: StoredBlock): void {
    this.#checkValidity(node, entry);
    node.app.apply(entry.block, entry.blockHash);
    node.chain.push(entry);
    node.wal = []; // block durably stored: rotate the WAL before the next start
    node.walSynced = 0;
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

  #broadcast(from: SimNode, msg: Message): void {
    this.messagesSent.push(msg);
    for (const to of this.nodes) if (to !== from) this.#send(from, to, msg);
  }

  #send(from: SimNode, to: SimNode, msg: Message): void {
    if (!this.#connected(from.index, to.index) || this.rng.chance(this.net.dropRate)) return;
    const copies = this.rng.chance(this.net.duplicateRate) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      this.after(this.rng.int(this.net.minDelayMs, this.net.maxDelayMs), () => {
        if (this.#connected(from.index, to.index)) this.deliver(to, msg, from);
      });
    }
  }

  /** Delivers a message to a node (also used by tests to inject replayed or forged traffic). */
  deliver(to: SimNode, msg: Message, from?: SimNode): void {
    if (!to.alive) return;
    this.delivered++;
    this.deliveredByKind.set(msg.kind, (this.deliveredByKind.get(msg.kind) ?? 0) + 1);
    switch (msg.kind) {
      case 'proposal':
        return this.#step(to, { type: 'proposal', now: this.clock(), proposal: msg.proposal, block: msg.block }, from);
      case 'vote':
        return this.#step(to, { type: 'vote', now: this.clock(), vote: msg.vote }, from);
      case 'evidence':
        return this.#step(to, { type: 'evidence', now: this.clock(), evidence: msg.evidence }, from);
      case 'certificate':
        return this.#step(to, { type: 'commitCertificate', now: this.clock(), block: msg.block, commit: msg.commit }, from);
      case 'syncRequest':
        if (from) this.#send(to, from, { kind: 'syncResponse', entries: to.chain.slice(msg.fromHeight - 1, msg.fromHeight - 1 + 50).map((s) => ({ block: s.block, commit: s.commit })) });
        return;
      case 'syncResponse':
        this.applySync(to, msg.entries);
        return;
    }
  }

  /**
   * Block sync: applies consecutive blocks whose commit verifies against the validator set the node
   * knows for that height, then restarts consensus at the next height. Stops at the first bad entry.
   */
  applySync(node: SimNode, entries: readonly SyncEntry[]): number {
    let applied = 0;
    for (const { block, commit } of entries) {
      if (block.height !== node.height + 1) continue;
      const validation = node.app.validateBlock(block.height, block);
      if (!validation.ok) {
        this.syncRejected.push(`block ${block.height}: ${validation.reason}`);
        break;
      }
      const check = verifyCommit(commit, this.valsetAt(block.height), SIM_CHAIN_ID, { height: block.height, blockHash: validation.blockHash });
      if (!check.ok) {
        this.syncRejected.push(`commit ${block.height}: ${check.reason}`);
        break;
      }
      this.#store(node, { block, blockHash: validation.blockHash, commit, time: block.time });
      applied++;
    }
    if (applied > 0) {
      this.syncApplied += applied;
      if (node.healMark && node.roundsAfterHeal === null) node.roundsAfterHeal = 0; // caught up without needing a round
      this.#startHeight(node, node.height + 1);
    }
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

function before(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}
