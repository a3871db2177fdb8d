import type { Block, BlockHeader, Commit, Misbehaviour, TxEvent, TxResult } from '../codec/block.js';
import { blockHash, hashOf, resultRoot, txRoot, ZERO_HASH } from '../codec/block.js';
import type { Msg, SignedTx } from '../codec/tx.js';
import { txHash, verifyTxSignature } from '../codec/tx.js';
import { CORE_ERRORS, LedgerError } from '../util/errors.js';
import { NO_PHASES, type PhaseTimer } from '../util/phase-meter.js';
import { BLOCK_ERRORS, checkAdmission, TX_ERRORS, type AdmissionOutcome, type AdmissionView } from './admission.js';
import { newExec, Kernel, type Exec, type InternalErrorSink } from './kernel.js';
import type { BlockInfo, Genesis, ModuleContext, ModuleCore, MsgHandler, ValidatorUpdate } from './module.js';
import type { QueryIndexDef, QueryIndexErrorSink, QueryIndexReader } from './query-index.js';
import { accountNonce, NONCE_PREFIX } from './nonce.js';
import { TZ_TABLE_HASH, TZ_TABLE_VERSION } from '../util/tz/version.js';
import { Overlay, padKey, ReadOnlyStore, STATE_ERRORS, type KVStore } from './state.js';
import { bytesToHex, childHash, type Child, type TreeUpdate } from './smt.js';
import './smt-node.js';
import { applyWritesToTree, decodeRoot, emptyStateTree, encodeRoot, treeOfEntries, type TreeState } from './state-tree.js';
import { buildStateProof, type RecordedReads, type StateProof } from './state-proof.js';

/**
 * The state-machine host: admission checks, block execution through the module kernel, and
 * commit. It knows nothing about networking or consensus: the ledger node calls `executeBlock`
 * (proposer and validators alike) and `commitBlock` once a block is decided.
 */

export interface BlockInput {
  height: number;
  time: number;
  proposer: string;
  prevHash: string;
  txs: SignedTx[];
  lastCommit: Commit | null;
  evidence: unknown[];
  /** What each evidence item proves (same order; consensus derives it from the verified evidence). */
  misbehaviour?: Misbehaviour[];
  /** The validator set that decides this height, sorted by address. */
  validators: ValidatorInfo[];
}

export interface ExecutedBlock {
  block: Block;
  hash: string;
  results: TxResult[];
  txHashes: string[];
  writes: Map<string, string | null>;
  /** The state tree after this block: its root and the inner nodes to store (ADR 0012). */
  stateTree: TreeUpdate;
  /** Validator-set changes returned by the end-of-block hooks (effective for height + 1). */
  validatorUpdates: ValidatorUpdate[];
  /** The set deciding height + 1, sorted by address. */
  nextValidators: ValidatorInfo[];
}

export interface ValidatorInfo {
  address: string;
  pubKey: string;
  power: string;
}

/** Meta key of the state tree's root (its encoded child); chains before ADR 0012 stored `ltHash` instead. */
export const STATE_TREE_ROOT_META = 'stateTreeRoot';

/** What the host needs from storage (implemented by store/sqlite): state in key order and the state tree's nodes. */
export interface ChainStore extends TreeState {
  getMeta(key: string): Buffer | undefined;
  latestHeight(): number;
  /** Writes genesis state, metadata and the state tree's nodes atomically into an empty database. */
  writeGenesis(entries: Map<string, string | null>, meta: Array<[string, Buffer | string]>, treeRows?: ReadonlyMap<string, Uint8Array | null>): void;
  commitBlock(input: BlockCommitInput): void;
  allState(): IterableIterator<[string, string]>;
  /** Runs `read` (which writes nothing) as one read transaction of committed state. */
  readTransaction<T>(read: () => T): T;
  /** Takes the modules' query-only indexes (ADR 0029 point 1), kept from then on with every commit. */
  useQueryIndexes(defs: readonly QueryIndexDef[], onError?: QueryIndexErrorSink): { rebuilt: string[]; dropped: string[] };
  /** Reads them: exactly the committed state's, as each commit keeps them in its transaction. */
  readonly queryIndex: QueryIndexReader;
}

export interface BlockCommitInput {
  block: Block;
  hash: string;
  results: TxResult[];
  txHashes: string[];
  commit: Commit;
  writes: Map<string, string | null>;
  /** The state tree's new root (encoded) and the inner nodes to write or delete. */
  stateTree: { root: Uint8Array; rows: ReadonlyMap<string, Uint8Array | null> };
  /** Extra node metadata committed with the block (e.g. the next validator set). */
  meta?: Array<[string, string]>;
}

/** What a signature check binds besides the body (known by its hash). */
export type TxSignature = Pick<SignedTx, 'pubKey' | 'signature'>;

/** Key and signature equal field for field. */
export function sameSignature(a: TxSignature, b: TxSignature): boolean {
  return a.pubKey === b.pubKey && a.signature === b.signature;
}

/** Transactions whose signature was verified: a body (by its hash) with exactly this key and signature. */
export interface VerifiedSignatures {
  has(hash: string, tx: TxSignature): boolean;
  remember?(hash: string, tx: TxSignature): void;
}

export interface AppOptions {
  chainId: string;
  modules: readonly ModuleCore[];
  /**
   * Signatures this process already verified: at admission, or in a block it executed — told through
   * `remember`, so a gossiped copy of a transaction first seen in a proposal is not verified again at
   * admission. Saves a second verify; never changes a result.
   */
  verifiedTxs?: VerifiedSignatures;
  /** Told about every bug the kernel caught (a handler crash, a write outside a module's prefix). */
  onInternalError?: InternalErrorSink;
  /** Times the phases of block execution and commit for the node's CPU report (observes only). */
  phases?: PhaseTimer;
}

/** A transaction's kind in the CPU report: its first message type (one label per type, bounded). */
export function txKind(tx: SignedTx): string {
  const first = tx.body.msgs[0]?.type ?? 'none';
  return tx.body.msgs.length > 1 ? `${first}+more` : first;
}

export const EVIDENCE_PREFIX = 'consensus/evidence/';
/** Committed equivocations by height: `<height>/<validator>/<round>/<vote>` → the block that recorded it. */
export const MISBEHAVIOUR_PREFIX = 'consensus/misbehaviour/';

export function misbehaviourStateKey(m: Misbehaviour): string {
  return `${MISBEHAVIOUR_PREFIX}${padKey(m.height)}/${m.validator}/${padKey(m.round, 4)}/${m.vote}`;
}

export interface ExecuteOptions {
  /** A proposer building its block: a transaction that breaks a validity rule is left out and reported here. */
  skipInvalid?: (tx: SignedTx, error: LedgerError) => void;
}

/** Computes a block's state-tree update elsewhere; null: compute it here (ADR 0024). */
export type TreeComputer = (height: number, parentRoot: Uint8Array, writes: ReadonlyMap<string, string | null>) => Promise<TreeUpdate | null>;

/** A block's transactions run on committed state, before its state tree and header. */
interface BlockRun {
  blockState: Overlay;
  results: TxResult[];
  txHashes: string[];
  included: SignedTx[];
  validatorUpdates: ValidatorUpdate[];
}

export class App {
  readonly chainId: string;
  readonly kernel: Kernel;
  private stateTreeRoot: Child;
  private readonly onInternalError: InternalErrorSink;
  private readonly phases: PhaseTimer;

  constructor(
    private readonly storage: ChainStore,
    private readonly options: AppOptions,
  ) {
    this.chainId = options.chainId;
    this.kernel = new Kernel(options.modules);
    this.onInternalError = options.onInternalError ?? (() => undefined);
    this.phases = options.phases ?? NO_PHASES;
    this.stateTreeRoot = loadStateTreeRoot(storage);
    this.queryIndexesAtOpen = storage.useQueryIndexes(this.kernel.queryIndexDefs(), (index, err) => this.onInternalError(err, { module: index.split('/')[0], phase: 'query-index' }));
  }

  /** The query-only indexes built (missing or outdated) and dropped (no longer declared) when this app opened its storage. */
  readonly queryIndexesAtOpen: { rebuilt: string[]; dropped: string[] };

  get height(): number {
    return this.storage.latestHeight();
  }

  /** The committed state root: the state tree's root hash (ADR 0012). */
  get stateRoot(): string {
    return bytesToHex(childHash(this.stateTreeRoot));
  }

  /** Proof of the given reads of committed state against the committed state root (ADR 0012). */
  proveReads(reads: RecordedReads): StateProof {
    return buildStateProof(this.storage, this.stateTreeRoot, reads);
  }

  /** Read-only view of committed state. */
  readonly committed = (): KVStore => new ReadOnlyStore(this.storage);

  hasMessageType(type: string): boolean {
    return this.kernel.handlerOf(type) !== undefined;
  }

  messageTypes(): string[] {
    return this.kernel.messageTypes();
  }

  nonceOf(address: string, store: KVStore = this.committed()): number {
    return accountNonce(store, address);
  }

  /**
   * A module's context over committed state, for its queries (read-only: a write throws). The
   * height and time are those of the latest committed block. Over the committed state itself (no
   * `state` given) the context reads the module's query-only indexes too; over another store (a
   * recording one, whose reads are proven) it does not, so the query reads what it answers from.
   */
  queryContext(module: string, block: { height: number; time: number }, state?: KVStore): ModuleContext<any, any> {
    const over = state ?? this.committed();
    this.kernel.requireActive(over, module, block.height);
    const queryIndex = state === undefined ? this.storage.queryIndex : undefined;
    return this.kernel.context(module, newExec({ state: over, chainId: this.chainId, block, sender: '', txHash: '', msgIndex: 0, readOnly: true, queryIndex }));
  }

  /** Writes genesis state as height 0 (no block); on an existing database checks it is the same genesis. */
  initGenesis(genesis: Genesis): void {
    checkTzTable(genesis);
    const stored = this.storage.getMeta('genesisHash')?.toString('utf8');
    if (stored !== undefined) {
      if (stored !== hashOf(genesis)) throw BLOCK_ERRORS.GENESIS_MISMATCH('genesis.json differs from the genesis this database was created with');
      this.kernel.useGenesis(genesis);
      return;
    }
    this.kernel.checkGenesis(genesis);
    const overlay = new Overlay(this.storage);
    this.kernel.initGenesis(newExec({ state: overlay, chainId: this.chainId, block: { height: 0, time: genesis.genesisTime }, sender: '', txHash: 'genesis', msgIndex: 0 }), genesis);
    const tree = applyWritesToTree(this.storage, emptyStateTree(), overlay.writes);
    this.storage.writeGenesis(
      overlay.writes,
      [
        [STATE_TREE_ROOT_META, Buffer.from(encodeRoot(tree.root))],
        ['genesisHash', hashOf(genesis)],
        ['genesisTime', String(genesis.genesisTime)],
      ],
      tree.rows,
    );
    this.stateTreeRoot = tree.root;
  }

  /** The admission view of committed state for a transaction bound for the next block. */
  private poolView(nonceWindow: number, signatureValid: AdmissionView['signatureValid']): AdmissionView {
    const state = this.committed();
    const height = this.height + 1;
    const exec = this.exec(state, { height, time: 0 }, '');
    return {
      chainId: this.chainId,
      height,
      nonceOf: (sender) => accountNonce(state, sender),
      nonce: { window: nonceWindow },
      signatureValid,
      authorize: (sender, msgs) => this.kernel.authorize(exec, sender, msgs),
      selfAdmission: (msgs) => this.kernel.isSelfAdmission(exec, msgs),
    };
  }

  /**
   * Mempool admission of a decoded transaction: message types and values, then the admission
   * pipeline against committed state. `signatureValid` answers from the caller's verification (or
   * defers it: the caller verifies the survivors in a batch).
   */
  checkTx(tx: SignedTx, hash: string, options: { nonceWindow: number; signatureValid: AdmissionView['signatureValid'] }): void {
    for (const msg of tx.body.msgs) this.decodeMsg(msg, this.committed(), this.height + 1);
    const outcome = checkAdmission(tx, hash, this.poolView(options.nonceWindow, options.signatureValid));
    if (!outcome.ok) throw outcome.error;
  }

  /** After a block: whether a pending transaction may stay (not expired, nonce unused, sender still allowed). */
  stillAdmissible(tx: SignedTx, hash: string, nonceWindow: number): boolean {
    return this.stillAdmissibleAll(nonceWindow)(tx, hash);
  }

  /**
   * After a block: the same answer for every pending transaction in one pass. The pass shares one
   * view of committed state and looks up each sender's nonce and the modules' sender authorisation
   * once: both depend only on the sender and committed state (a self-admission message's check
   * depends on the message, so it runs per transaction). Rechecking thousands of pending
   * transactions of a few senders after every block cost more than executing the block.
   */
  stillAdmissibleAll(nonceWindow: number): (tx: SignedTx, hash: string) => boolean {
    const view = this.poolView(nonceWindow, () => true);
    const nonces = new Map<string, number>();
    const refusals = new Map<string, LedgerError | null>();
    const once: AdmissionView = {
      ...view,
      nonceOf: (sender) => {
        let nonce = nonces.get(sender);
        if (nonce === undefined) nonces.set(sender, (nonce = view.nonceOf(sender)));
        return nonce;
      },
      authorize: (sender, msgs) => {
        if (view.selfAdmission?.(msgs)) return view.authorize(sender, msgs);
        if (!refusals.has(sender)) refusals.set(sender, refusalOf(() => view.authorize(sender, msgs)));
        const refusal = refusals.get(sender);
        if (refusal) throw refusal;
      },
    };
    return (tx, hash) => checkAdmission(tx, hash, once).ok;
  }

  /** Messages already validated (at admission, or in a block built here), by message object. */
  private readonly decodedMsgs = new WeakMap<object, { module: string; handler: MsgHandler; value: unknown }>();

  /** Validates a message against its module's schema (a message object is validated once) and checks the module is active. */
  private decodeMsg(msg: Msg, state: KVStore, height: number): { module: string; handler: MsgHandler; value: unknown } {
    let decoded = this.decodedMsgs.get(msg);
    if (!decoded) {
      decoded = this.parseMsg(msg.type, msg.value);
      this.decodedMsgs.set(msg, decoded);
    }
    this.kernel.requireActive(state, decoded.module, height);
    return decoded;
  }

  private parseMsg(type: string, value: unknown): { module: string; handler: MsgHandler; value: unknown } {
    const found = this.kernel.handlerOf(type);
    if (!found) throw TX_ERRORS.TX_UNKNOWN_MSG_TYPE(`unknown message type ${JSON.stringify(type)}`);
    const parsed = found.handler.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${type}.${issue.path.join('.')}` : type;
      throw TX_ERRORS.MSG_INVALID(`${where}: ${issue?.message ?? 'invalid message'}`);
    }
    return { module: found.module.name, handler: found.handler, value: parsed.data };
  }

  /**
   * Executes a block on top of committed state without committing it. With `skipInvalid` (a
   * proposer building its block) a transaction that breaks a validity rule is left out and
   * reported; otherwise (a validator checking a proposal) it makes the block invalid: BLOCK_INVALID_TX.
   * Message-level failures are committed as results either way.
   */
  executeBlock(input: BlockInput, options: ExecuteOptions = {}): ExecutedBlock {
    return this.storage.readTransaction(() => {
      const ran = this.runBlockTxs(input, options);
      const stateTree = this.phases.time('state.root', () => applyWritesToTree(this.storage, this.stateTreeRoot, ran.blockState.writes));
      return this.finishBlock(input, ran, stateTree);
    });
  }

  /**
   * `executeBlock` with the state-tree update computed by `tree` (ADR 0024: a worker thread, while
   * this thread serves requests). `tree` gets the height, the committed root the writes apply to and
   * the writes; when it answers null (a worker that saw other committed state, or none), the tree is
   * computed here. Undefined when a block was committed meanwhile: the execution no longer applies.
   */
  async executeBlockWithTree(input: BlockInput, options: ExecuteOptions, tree: TreeComputer): Promise<ExecutedBlock | undefined> {
    const parent = this.stateTreeRoot;
    const ran = this.storage.readTransaction(() => this.runBlockTxs(input, options));
    const answered = await tree(input.height, encodeRoot(parent), ran.blockState.writes);
    if (this.stateTreeRoot !== parent || this.height !== input.height - 1) return undefined;
    const stateTree = answered ?? this.storage.readTransaction(() => this.phases.time('state.root', () => applyWritesToTree(this.storage, parent, ran.blockState.writes)));
    return this.finishBlock(input, ran, stateTree);
  }

  /** Runs a block's transactions and end-of-block hooks on committed state (nothing is written). */
  private runBlockTxs(input: BlockInput, options: ExecuteOptions): BlockRun {
    const expectedHeight = this.height + 1;
    if (input.height !== expectedHeight) throw BLOCK_ERRORS.BLOCK_INVALID_HEIGHT(`expected height ${expectedHeight}, got ${input.height}`);
    const blockState = new Overlay(this.storage);
    const block = { height: input.height, time: input.time, previous: { hash: input.prevHash, stateRoot: this.stateRoot } };
    const results: TxResult[] = [];
    const txHashes: string[] = [];
    const included: SignedTx[] = [];
    const misbehaviour = recordEvidence(blockState, input);
    this.beginBlock(block, blockState, misbehaviour);
    const P = this.phases;
    P.time('execute.txs', () => {
      for (const tx of input.txs) {
        const hash = txHash(tx.body);
        const outcome = P.share('execute.admit', () => this.admitInBlock(tx, hash, block, blockState));
        if (!outcome.ok) {
          if (options.skipInvalid) {
            options.skipInvalid(tx, outcome.error);
            continue;
          }
          throw BLOCK_ERRORS.BLOCK_INVALID_TX(`transaction ${hash}: ${outcome.error.code}: ${outcome.error.message}`);
        }
        txHashes.push(hash);
        included.push(tx);
        results.push(P.share(`execute.tx.${txKind(tx)}`, () => this.runTx(tx, hash, included.length - 1, block, blockState)));
      }
    });
    const validatorUpdates = P.time('execute.endBlock', () => this.endBlock(block, blockState));
    return { blockState, results, txHashes, included, validatorUpdates };
  }

  /** The executed block, given its run and the state tree after it. */
  private finishBlock(input: BlockInput, ran: BlockRun, stateTree: TreeUpdate): ExecutedBlock {
    const { blockState, results, txHashes, included, validatorUpdates } = ran;
    const nextValidators = applyValidatorUpdates(input.validators, validatorUpdates);
    return this.phases.time('block.roots', () => this.sealBlock(input, included, results, stateTree, { blockState, validatorUpdates, nextValidators, txHashes }));
  }

  /** The header of an executed block (its roots and hashes) and the block with it. */
  private sealBlock(
    input: BlockInput,
    included: SignedTx[],
    results: TxResult[],
    stateTree: ExecutedBlock['stateTree'],
    rest: { blockState: Overlay; validatorUpdates: ValidatorUpdate[]; nextValidators: ExecutedBlock['nextValidators']; txHashes: string[] },
  ): ExecutedBlock {
    const { blockState, validatorUpdates, nextValidators, txHashes } = rest;
    const header: BlockHeader = {
      chainId: this.chainId,
      height: input.height,
      time: input.time,
      prevHash: input.prevHash,
      txRoot: txRoot(included),
      resultRoot: resultRoot(results),
      stateRoot: bytesToHex(childHash(stateTree.root)),
      validatorsHash: hashOf(input.validators),
      nextValidatorsHash: hashOf(nextValidators),
      lastCommitHash: input.lastCommit ? hashOf(input.lastCommit) : ZERO_HASH,
      evidenceHash: hashOf(input.evidence),
      proposer: input.proposer,
    };
    const executed: Block = { header, txs: included, lastCommit: input.lastCommit, evidence: input.evidence };
    return { block: executed, hash: blockHash(header), results, txHashes, writes: blockState.writes, stateTree, validatorUpdates, nextValidators };
  }

  /** The admission pipeline in block state: the nonce must be exactly the next one. */
  private admitInBlock(tx: SignedTx, hash: string, block: BlockInfo, blockState: Overlay): AdmissionOutcome {
    const exec = this.exec(blockState, block, tx.body.sender);
    return checkAdmission(tx, hash, {
      chainId: this.chainId,
      height: block.height,
      nonceOf: (sender) => accountNonce(blockState, sender),
      nonce: 'exact',
      signatureValid: (t, h) => this.signatureValid(t, h),
      authorize: (sender, msgs) => this.kernel.authorize(exec, sender, msgs),
      selfAdmission: (msgs) => this.kernel.isSelfAdmission(exec, msgs),
    });
  }

  private signatureValid(tx: SignedTx, hash: string): boolean {
    if (this.options.verifiedTxs?.has(hash, tx)) return true;
    try {
      verifyTxSignature(tx);
    } catch {
      return false;
    }
    this.options.verifiedTxs?.remember?.(hash, tx);
    return true;
  }

  private exec(state: KVStore, block: BlockInfo, sender: string, txHash = '', events?: TxEvent[]): Exec {
    return newExec({ state, chainId: this.chainId, block, sender, txHash, msgIndex: 0, events });
  }

  /** Runs one transaction; on any rejection only the nonce increment survives. */
  private runTx(tx: SignedTx, hash: string, index: number, block: BlockInfo, blockState: Overlay): TxResult {
    const { body } = tx;
    blockState.set(NONCE_PREFIX + body.sender, body.nonce + 1);
    const txState = new Overlay(blockState);
    const events: TxEvent[] = [];
    let module: string | undefined;
    try {
      body.msgs.forEach((msg, msgIndex) => {
        const decoded = this.decodeMsg(msg, txState, block.height);
        module = decoded.module;
        const exec = newExec({ state: txState, chainId: this.chainId, block, sender: body.sender, txHash: hash, msgIndex, events });
        decoded.handler.execute(this.kernel.context(decoded.module, exec), decoded.value);
      });
      module = undefined;
      this.kernel.afterTx(newExec({ state: txState, chainId: this.chainId, block, sender: body.sender, txHash: hash, msgIndex: body.msgs.length, events }));
    } catch (err) {
      if (err instanceof LedgerError) return { code: err.code, message: err.message, events: [] };
      // A handler bug must not halt the chain; every node records the same deterministic rejection.
      this.onInternalError(err, { module, txHash: hash, phase: 'deliverTx' });
      const internal = CORE_ERRORS.INTERNAL_ERROR('the transaction failed with an internal error');
      return { code: internal.code, message: internal.message, events: [] };
    }
    txState.mergeInto(blockState);
    return { code: 'OK', message: '', events: [{ type: 'tx', attributes: { index: String(index) } }, ...events] };
  }

  /** Modules act on the block's misbehaviour before its transactions (a crash is reported like endBlock's). */
  private beginBlock(block: BlockInfo, blockState: Overlay, misbehaviour: Misbehaviour[]): void {
    if (misbehaviour.length === 0) return;
    const beginState = new Overlay(blockState);
    try {
      this.kernel.reportMisbehaviour(this.exec(beginState, block, ''), misbehaviour);
      beginState.mergeInto(blockState);
    } catch (err) {
      this.onInternalError(err, { phase: 'beginBlock' });
    }
  }

  /**
   * End-of-block work of every module (a crash here is a bug every node hits alike: it is reported and
   * the block goes on without it), except a state migration this node's code lacks (ADR 0029): the
   * block cannot be executed here, so the node stops at that height.
   */
  private endBlock(block: BlockInfo, blockState: Overlay): ValidatorUpdate[] {
    const endState = new Overlay(blockState);
    try {
      const updates = this.kernel.endBlock(this.exec(endState, block, ''));
      endState.mergeInto(blockState);
      return updates;
    } catch (err) {
      // A state version this code lacks is no bug to absorb: executing on would compute another state than the chain's.
      if (err instanceof LedgerError && err.code === 'STATE_VERSION_UNSUPPORTED') throw err;
      this.onInternalError(err, { phase: 'endBlock' });
      return [];
    }
  }

  /** Commits an executed block atomically with its commit signatures. */
  commitBlock(executed: ExecutedBlock, commit: Commit, meta?: Array<[string, string]>): void {
    this.phases.time('commit.store', () => this.storage.commitBlock({
      meta,
      block: executed.block,
      hash: executed.hash,
      results: executed.results,
      txHashes: executed.txHashes,
      commit,
      writes: executed.writes,
      stateTree: { root: encodeRoot(executed.stateTree.root), rows: executed.stateTree.rows },
    }));
    this.stateTreeRoot = executed.stateTree.root;
  }

  /** Recomputes the state root from every stored entry (audit of storage against the chain). */
  recomputeStateRoot(): string {
    return bytesToHex(childHash(treeOfEntries(this.storage.allState()).root));
  }
}

/** The LedgerError `run` throws, or null when it returns (anything else is a bug and propagates). */
function refusalOf(run: () => void): LedgerError | null {
  try {
    run();
    return null;
  } catch (err) {
    if (err instanceof LedgerError) return err;
    throw err;
  }
}

/**
 * Evidence carried by a block (verified by consensus) becomes queryable state, and each equivocation
 * is indexed so it is committed once: a block repeating one is invalid (BLOCK_EVIDENCE_COMMITTED).
 */
function recordEvidence(store: Overlay, input: BlockInput): Misbehaviour[] {
  const misbehaviour = input.misbehaviour ?? [];
  if (misbehaviour.length !== input.evidence.length) throw BLOCK_ERRORS.BLOCK_EVIDENCE_INVALID(`${input.evidence.length} evidence items but ${misbehaviour.length} explained`);
  misbehaviour.forEach((m, i) => {
    const key = misbehaviourStateKey(m);
    if (store.has(key)) throw BLOCK_ERRORS.BLOCK_EVIDENCE_COMMITTED(`the equivocation of ${m.validator} at height ${m.height} round ${m.round} (${m.vote}) is already committed`);
    store.set(key, { recordedAt: input.height });
    store.set(`${EVIDENCE_PREFIX}${padKey(input.height)}/${padKey(i, 4)}`, { height: input.height, evidence: input.evidence[i] });
  });
  return misbehaviour;
}

/**
 * The committed state tree's root. A database written before ADR 0012 (an LtHash state root and no
 * tree) cannot serve proofs and its headers mean something else: it is refused, the chain restarts
 * from a new genesis (docs/verifiable.md, migration).
 */
function loadStateTreeRoot(storage: ChainStore): Child {
  const stored = storage.getMeta(STATE_TREE_ROOT_META);
  if (stored) return decodeRoot(new Uint8Array(stored));
  if (storage.getMeta('ltHash') !== undefined) {
    throw STATE_ERRORS.STATE_FORMAT_OUTDATED('this database was written with the LtHash state root (before ADR 0012); start the chain from a new genesis (docs/verifiable.md)');
  }
  return emptyStateTree();
}

/** A chain's local-time rules are consensus input: the node must run the table genesis names. */
function checkTzTable(genesis: Genesis): void {
  const wanted = genesis.tzTable;
  if (wanted && (wanted.hash !== TZ_TABLE_HASH || wanted.version !== TZ_TABLE_VERSION)) {
    throw BLOCK_ERRORS.GENESIS_TZ_TABLE_MISMATCH(`genesis names time-zone table ${wanted.version} (${wanted.hash}); this node has ${TZ_TABLE_VERSION} (${TZ_TABLE_HASH})`);
  }
}

/** The set after `updates` (the last update of an address wins; power "0" removes), sorted by address. */
export function applyValidatorUpdates(current: readonly ValidatorInfo[], updates: readonly ValidatorUpdate[]): ValidatorInfo[] {
  const byAddress = new Map(current.map((v) => [v.address, { address: v.address, pubKey: v.pubKey, power: v.power }]));
  for (const u of updates) {
    if (u.power === '0') byAddress.delete(u.address);
    else byAddress.set(u.address, { address: u.address, pubKey: u.pubKey, power: u.power });
  }
  return [...byAddress.values()].sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : 0));
}

export { padKey };
