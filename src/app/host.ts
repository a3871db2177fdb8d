import type { AppModule, Genesis, MsgHandler, TxContext } from './module.js';
import { LtHash, Overlay, ReadOnlyStore, applyWritesToLtHash, padKey, type KVStore } from './state.js';
import type { Storage } from '../store/sqlite.js';
import type { Msg, SignedTx } from '../codec/tx.js';
import { txHash, verifyTxSignature } from '../codec/tx.js';
import type { Block, BlockHeader, Commit, TxEvent, TxResult } from '../codec/block.js';
import { blockHash, hashOf, resultRoot, txRoot, ZERO_HASH } from '../codec/block.js';
import { LedgerError } from '../util/errors.js';
import { NONCE_PREFIX, accountNonce } from './nonce.js';

/**
 * The state-machine host: checks transactions, executes blocks through the registered modules and
 * commits the result. It knows nothing about networking or consensus; consensus calls
 * `executeBlock` (proposer and validators alike) and `commitBlock` once a block is decided.
 */


export interface BlockInput {
  height: number;
  time: number;
  proposer: string;
  prevHash: string;
  txs: SignedTx[];
  lastCommit: Commit | null;
  evidence: unknown[];
}

export interface ExecutedBlock {
  block: Block;
  hash: string;
  results: TxResult[];
  txHashes: string[];
  writes: Map<string, string | null>;
  ltHash: LtHash;
}

export interface ValidatorInfo {
  address: string;
  pubKey: string;
  power: string;
}

export interface AppOptions {
  chainId: string;
  modules: AppModule[];
  /** The validator set in force given the committed state (owned by the registry module). */
  validatorSet(store: KVStore): ValidatorInfo[];
  /** Tx hashes whose signatures this process already verified (mempool); saves a second verify. */
  verifiedTxs?: Set<string>;
}

export class App {
  readonly chainId: string;
  private readonly handlers = new Map<string, MsgHandler>();
  private readonly modules: AppModule[];
  private ltHash: LtHash;

  constructor(
    private readonly storage: Storage,
    private readonly options: AppOptions,
  ) {
    this.chainId = options.chainId;
    this.modules = options.modules;
    for (const m of options.modules) {
      for (const [type, handler] of Object.entries(m.messages)) {
        if (this.handlers.has(type)) throw new Error(`message type ${type} registered twice`);
        this.handlers.set(type, handler);
      }
    }
    const stored = storage.getMeta('ltHash');
    this.ltHash = stored ? LtHash.fromBytes(stored) : new LtHash();
  }

  get height(): number {
    return this.storage.latestHeight();
  }

  get stateRoot(): string {
    return this.ltHash.root();
  }

  /** Read-only view of committed state for queries. */
  readonly committed = (): KVStore => new ReadOnlyStore(this.storage);

  hasMessageType(type: string): boolean {
    return this.handlers.has(type);
  }

  messageTypes(): string[] {
    return [...this.handlers.keys()].sort();
  }

  nonceOf(address: string, store: KVStore = this.committed()): number {
    return accountNonce(store, address);
  }

  validators(store: KVStore = this.committed()): ValidatorInfo[] {
    return this.options.validatorSet(store);
  }

  /** Writes genesis state as height 0 (no block); idempotent only on an empty store. */
  initGenesis(genesis: Genesis): void {
    const stored = this.storage.getMeta('genesisHash')?.toString('utf8');
    if (stored !== undefined) {
      if (stored !== hashOf(genesis)) throw new LedgerError('GENESIS_MISMATCH', 'genesis.json differs from the genesis this database was created with', 500);
      return;
    }
    const overlay = new Overlay(this.storage);
    for (const m of this.modules) m.initGenesis?.(overlay, genesis);
    const lt = new LtHash();
    applyWritesToLtHash(lt, overlay.writes, this.storage);
    this.storage.db.transaction(() => {
      for (const [k, v] of overlay.writes) if (v !== null) this.storage.db.prepare('INSERT INTO state (key, value) VALUES (?, ?)').run(k, v);
      this.storage.putMeta('ltHash', Buffer.from(lt.toBytes()));
      this.storage.putMeta('genesisHash', hashOf(genesis));
      this.storage.putMeta('genesisTime', String(genesis.genesisTime));
    })();
    this.storage.clearReadCache();
    this.ltHash = lt;
  }

  /**
   * Stateful admission of a transaction whose signature was already checked: chain id, known message
   * types with valid values, nonce window, expiry and the modules' sender authorisation.
   */
  checkTx(tx: SignedTx, options: { nonceWindow: number }): void {
    const { body } = tx;
    if (body.chainId !== this.chainId) throw new LedgerError('TX_WRONG_CHAIN', `chain id ${body.chainId} is not ${this.chainId}`);
    for (const msg of body.msgs) this.decodeMsg(msg);
    const height = this.height;
    if (body.expiresAtHeight <= height) {
      throw new LedgerError('TX_EXPIRED', `transaction expired at height ${body.expiresAtHeight}; chain is at ${height}`);
    }
    const store = this.committed();
    const next = this.nonceOf(body.sender, store);
    if (body.nonce < next) throw new LedgerError('TX_NONCE_USED', `nonce ${body.nonce} already used; next is ${next}`);
    if (body.nonce >= next + options.nonceWindow) {
      throw new LedgerError('TX_NONCE_TOO_HIGH', `nonce ${body.nonce} is beyond the window (next ${next}, window ${options.nonceWindow})`);
    }
    for (const m of this.modules) m.authorize?.(store, body.sender);
  }

  /** Messages already validated (at admission, or in a block built here), by message object. */
  private readonly decodedMsgs = new WeakMap<object, { handler: MsgHandler; value: unknown }>();

  /** Validates a message against its module's schema; a message object is validated once. */
  private decodeMsg(msg: Msg): { handler: MsgHandler; value: unknown } {
    const cached = this.decodedMsgs.get(msg);
    if (cached) return cached;
    const decoded = this.parseMsg(msg.type, msg.value);
    this.decodedMsgs.set(msg, decoded);
    return decoded;
  }

  private parseMsg(type: string, value: unknown): { handler: MsgHandler; value: unknown } {
    const handler = this.handlers.get(type);
    if (!handler) throw new LedgerError('TX_UNKNOWN_MSG_TYPE', `unknown message type ${JSON.stringify(type)}`);
    const parsed = handler.schema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? `${type}.${issue.path.join('.')}` : type;
      throw new LedgerError('MSG_INVALID', `${where}: ${issue?.message ?? 'invalid message'}`);
    }
    return { handler, value: parsed.data };
  }

  /**
   * Executes a proposed block on top of committed state without committing it. Throws
   * BLOCK_INVALID_* when the block breaks a validity rule (bad signature, chain id, nonce order,
   * expiry): such a block must not be voted for. Message-level failures are committed as results.
   */
  executeBlock(input: BlockInput): ExecutedBlock {
    const expectedHeight = this.height + 1;
    if (input.height !== expectedHeight) throw new LedgerError('BLOCK_INVALID_HEIGHT', `expected height ${expectedHeight}, got ${input.height}`);
    const blockState = new Overlay(this.storage);
    const results: TxResult[] = [];
    const txHashes: string[] = [];
    input.txs.forEach((tx, index) => {
      const hash = this.checkTxInBlock(tx, input.height, blockState);
      txHashes.push(hash);
      results.push(this.runTx(tx, hash, index, input, blockState));
    });
    recordEvidence(blockState, input.height, input.evidence);
    for (const m of this.modules) m.endBlock?.(blockState, { height: input.height, time: input.time });
    const lt = new LtHash(this.ltHash.lanes);
    applyWritesToLtHash(lt, blockState.writes, this.storage);
    const validatorsNow = this.validators();
    const validatorsNext = this.validators(blockState);
    const header: BlockHeader = {
      chainId: this.chainId,
      height: input.height,
      time: input.time,
      prevHash: input.prevHash,
      txRoot: txRoot(input.txs),
      resultRoot: resultRoot(results),
      stateRoot: lt.root(),
      validatorsHash: hashOf(validatorsNow),
      nextValidatorsHash: hashOf(validatorsNext),
      lastCommitHash: input.lastCommit ? hashOf(input.lastCommit) : ZERO_HASH,
      evidenceHash: hashOf(input.evidence),
      proposer: input.proposer,
    };
    const block: Block = { header, txs: input.txs, lastCommit: input.lastCommit, evidence: input.evidence };
    return { block, hash: blockHash(header), results, txHashes, writes: blockState.writes, ltHash: lt };
  }

  /** Validity rules a proposer must respect; breaking one makes the whole block invalid. */
  private checkTxInBlock(tx: SignedTx, height: number, blockState: Overlay): string {
    let hash: string;
    try {
      const known = txHash(tx.body);
      hash = this.options.verifiedTxs?.has(verifiedTxKey(known, tx)) ? known : verifyTxSignature(tx);
    } catch (err) {
      throw new LedgerError('BLOCK_INVALID_TX', `transaction signature invalid: ${(err as Error).message}`);
    }
    const { body } = tx;
    if (body.chainId !== this.chainId) throw new LedgerError('BLOCK_INVALID_TX', `transaction ${hash} has chain id ${body.chainId}`);
    if (body.expiresAtHeight < height) throw new LedgerError('BLOCK_INVALID_TX', `transaction ${hash} expired at ${body.expiresAtHeight}`);
    const expected = this.nonceOf(body.sender, blockState);
    if (body.nonce !== expected) throw new LedgerError('BLOCK_INVALID_TX', `transaction ${hash} has nonce ${body.nonce}, expected ${expected}`);
    return hash;
  }

  /** Runs one transaction; on any rejection only the nonce increment survives. */
  private runTx(tx: SignedTx, hash: string, index: number, input: BlockInput, blockState: Overlay): TxResult {
    const { body } = tx;
    blockState.set(NONCE_PREFIX + body.sender, body.nonce + 1);
    const txState = new Overlay(blockState);
    const events: TxEvent[] = [];
    try {
      for (const m of this.modules) m.authorize?.(txState, body.sender);
      body.msgs.forEach((msg, msgIndex) => {
        const { handler, value } = this.decodeMsg(msg);
        const ctx: TxContext = {
          store: txState,
          chainId: this.chainId,
          sender: body.sender,
          height: input.height,
          time: input.time,
          txHash: hash,
          msgIndex,
          emit: (type, attributes) => events.push({ type, attributes: stringifyAttributes(attributes) }),
        };
        handler.execute(ctx, value);
      });
    } catch (err) {
      if (err instanceof LedgerError) return { code: err.code, message: err.message, events: [] };
      // A handler bug must not halt the chain; every node records the same deterministic rejection.
      return { code: 'INTERNAL_ERROR', message: 'the transaction failed with an internal error', events: [] };
    }
    txState.mergeInto(blockState);
    return { code: 'OK', message: '', events: [{ type: 'tx', attributes: { index: String(index) } }, ...events] };
  }

  /** Commits an executed block atomically with its commit signatures. */
  commitBlock(executed: ExecutedBlock, commit: Commit, meta?: Array<[string, string]>): void {
    this.storage.commitBlock({
      meta,
      block: executed.block,
      hash: executed.hash,
      results: executed.results,
      txHashes: executed.txHashes,
      commit,
      writes: executed.writes,
      ltHash: executed.ltHash.toBytes(),
    });
    this.ltHash = executed.ltHash;
  }

  /** Recomputes the state root from every stored entry (audit of storage against the chain). */
  recomputeStateRoot(): string {
    const lt = new LtHash();
    for (const [k, v] of this.storage.allState()) lt.add(k, v);
    return lt.root();
  }
}

export const EVIDENCE_PREFIX = 'consensus/evidence/';

/** Evidence carried by a block (already verified by consensus) becomes queryable state. */
function recordEvidence(store: Overlay, height: number, evidence: unknown[]): void {
  evidence.forEach((ev, i) => store.set(`${EVIDENCE_PREFIX}${padKey(height)}/${padKey(i, 4)}`, { height, evidence: ev }));
}

function stringifyAttributes(attributes: Record<string, string | number>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of Object.keys(attributes).sort()) out[k] = String(attributes[k]);
  return out;
}

/** Key under which a process remembers that it verified this exact (body, key, signature). */
export function verifiedTxKey(hash: string, tx: SignedTx): string {
  return `${hash}:${tx.pubKey}:${tx.signature}`;
}

export { padKey };
