import { App, type ExecutedBlock, type ValidatorInfo } from '../../src/app/host.js';
import type { Genesis, ModuleCore } from '../../src/app/module.js';
import { BASE_MODULES, latestStateVersions, withNonceOf, type InternalErrorSink } from '../../src/app/kernel.js';
import type { Commit, TxResult } from '../../src/codec/block.js';
import { ZERO_HASH } from '../../src/codec/block.js';
import { signTx, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { Signer } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/hash.js';
import { registryCore } from '../../src/modules/registry/module.js';
import { Storage } from '../../src/store/sqlite.js';
import { misbehaviourOf, type Evidence } from '../../src/consensus/index.js';
import { utf8 } from '../../src/util/bytes.js';
import type { ModuleEntry } from '../../src/surface/index.js';
import type { KVStore } from '../../src/app/state.js';
import { bytesToHex, childHash } from '../../src/app/smt.js';
import { treeOfEntries } from '../../src/app/state-tree.js';

/**
 * An in-process chain for module tests: real storage (SQLite in memory), the real app host and
 * modules, blocks with a block time the test chooses. No network, no wall clock.
 */

/** The state root of a whole state given as a map (recomputed from scratch, in key order). */
export function stateRootOf(state: ReadonlyMap<string, string>): string {
  const entries = [...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return bytesToHex(childHash(treeOfEntries(entries).root));
}

export interface TestAccount {
  name: string;
  signer: Signer;
  address: string;
  publicKey: string;
}

export function account(name: string): TestAccount {
  const seed = sha256(utf8(`gridledger-test-key:${name}`));
  const signer = new Signer(seed);
  const pub = signer.publicKey;
  return { name, signer, address: addressFromPublicKey(pub), publicKey: Buffer.from(pub).toString('hex') };
}

export interface TestChainOptions {
  modules?: readonly ModuleCore<any, any>[];
  /** Told about bugs the kernel caught; by default the test fails loudly (the error is rethrown later). */
  onInternalError?: InternalErrorSink;
  /** extra genesis accounts: name → roles */
  accounts?: Record<string, string[]>;
  genesisModules?: Record<string, unknown>;
  /** Module state versions at genesis (ADR 0029); default: the newest of each module active from genesis, as `init` writes. */
  stateVersions?: Record<string, number>;
  genesisTime?: number;
  chainId?: string;
  /** The chain's storage (default: a new one in memory); a file's lets a test reopen it. */
  storage?: Storage;
}

export class TestChain {
  readonly storage: Storage;
  readonly app: App;
  readonly chainId: string;
  readonly operator = account('operator');
  readonly validator = account('validator');
  time: number;
  private readonly nonces = new Map<string, number>();
  lastExecuted: ExecutedBlock | undefined;
  /** The validator set deciding the next block (follows the updates blocks return). */
  validators: ValidatorInfo[];
  /** Bugs the kernel caught (scope violations, handler crashes), in order. */
  readonly internalErrors: Array<{ err: unknown; phase: string; module?: string }> = [];

  constructor(options: TestChainOptions = {}) {
    this.storage = options.storage ?? new Storage(':memory:');
    this.chainId = options.chainId ?? 'test-chain';
    const modules = options.modules ?? [registryCore];
    this.app = new App(this.storage, {
      chainId: this.chainId,
      modules,
      onInternalError:
        options.onInternalError ??
        ((err, where) => {
          this.internalErrors.push({ err, ...where });
        }),
    });
    this.time = options.genesisTime ?? Date.UTC(2026, 5, 1, 0, 0, 0);
    const genesis: Genesis = {
      chainId: this.chainId,
      genesisTime: this.time,
      operators: [this.operator.address],
      validators: [{ address: this.validator.address, pubKey: this.validator.publicKey, power: '10' }],
      accounts: Object.entries(options.accounts ?? {}).map(([name, roles]) => ({ address: account(name).address, roles })),
      // Every non-base module passed in is active from genesis unless the test configures genesis itself.
      modules: options.genesisModules ?? Object.fromEntries(modules.filter((m) => !BASE_MODULES.includes(m.name)).map((m) => [m.name, {}])),
    };
    const fromGenesis = new Set([...BASE_MODULES, ...Object.keys(genesis.modules)]);
    const versions = options.stateVersions ?? latestStateVersions(modules.filter((m) => fromGenesis.has(m.name)));
    if (Object.keys(versions).length > 0) genesis.stateVersions = versions;
    this.app.initGenesis(genesis);
    this.validators = genesis.validators.map(({ address, pubKey, power }) => ({ address, pubKey, power }));
  }

  get store() {
    return this.app.committed();
  }

  /** Signs a transaction with the account's next nonce (tracked locally). */
  tx(from: TestAccount, msgs: Msg[]): SignedTx {
    const nonce = this.nonces.get(from.address) ?? this.app.nonceOf(from.address);
    this.nonces.set(from.address, nonce + 1);
    return signTx({ chainId: this.chainId, sender: from.address, nonce, expiresAtHeight: this.app.height + 100, msgs, memo: '' }, from.signer);
  }

  /** Commits one block holding the transactions (and evidence) at the given (or an advanced) block time. */
  block(txs: SignedTx[], time?: number, evidence: Evidence[] = []): TxResult[] {
    const height = this.app.height + 1;
    const prev = this.storage.getBlock(height - 1);
    const executed = this.app.executeBlock({
      height,
      time: time ?? this.time + 1000,
      proposer: this.validator.address,
      prevHash: prev?.hash ?? ZERO_HASH,
      txs,
      lastCommit: prev?.commit ?? null,
      evidence,
      misbehaviour: evidence.map(misbehaviourOf),
      validators: this.validators,
    });
    this.time = time ?? this.time + 1000;
    const commit: Commit = { height, round: 0, blockHash: executed.hash, signatures: [] };
    this.app.commitBlock(executed, commit);
    this.lastExecuted = executed;
    this.validators = executed.nextValidators;
    for (const tx of txs) this.nonces.set(tx.body.sender, tx.body.nonce + 1);
    return executed.results;
  }

  /** One transaction in its own block; returns its result. */
  send(from: TestAccount, msgs: Msg | Msg[], time?: number): TxResult {
    return this.block([this.tx(from, Array.isArray(msgs) ? msgs : [msgs])], time)[0]!;
  }

  /** A module's query context over `state` (default: committed), as route handlers receive it. */
  queryContext(module: string, state?: KVStore) {
    const ctx = this.app.queryContext(module, { height: this.app.height, time: this.time }, state);
    return withNonceOf(ctx, (a: string) => this.app.nonceOf(a));
  }

  /**
   * Calls a module's query route the way the API does: input parsed with the route's schemas (query
   * values as strings), the handler run on the module's read-only context, the answer checked
   * against the route's response schema. `queryIndexes: false`: without the node's query indexes.
   */
  query(entry: ModuleEntry, name: string, params: Record<string, unknown> = {}, query: Record<string, unknown> = {}, options: { queryIndexes?: boolean } = {}): any {
    const r = entry.surface.routes!.find((x) => x.route.name === name);
    if (!r) throw new Error(`module ${entry.core.name} has no route ${name}`);
    const parsed = (schema: unknown, v: unknown) => (schema ? (schema as { parse(v: unknown): unknown }).parse(v) : undefined);
    // Without the node's query indexes (ADR 0029 point 1), as a proven answer runs: over a given store.
    const ctx = options.queryIndexes === false ? this.queryContext(entry.core.name, this.app.committed()) : this.queryContext(entry.core.name);
    const out = r.handle(ctx, { params: parsed(r.route.params, params), query: parsed(r.route.query, query), body: undefined } as never);
    return r.route.response.parse(out);
  }

  get stateRoot(): string {
    return this.app.stateRoot;
  }
}
