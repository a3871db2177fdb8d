import { App, type ExecutedBlock } from '../../src/app/host.js';
import type { AppModule, Genesis } from '../../src/app/module.js';
import type { Commit, TxResult } from '../../src/codec/block.js';
import { ZERO_HASH } from '../../src/codec/block.js';
import { signTx, type Msg, type SignedTx } from '../../src/codec/tx.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/hash.js';
import { listValidators } from '../../src/modules/registry/state.js';
import { registryModule } from '../../src/modules/registry/index.js';
import { Storage } from '../../src/store/sqlite.js';
import { utf8 } from '../../src/util/bytes.js';

/**
 * An in-process chain for module tests: real storage (SQLite in memory), the real app host and
 * modules, blocks with a block time the test chooses. No network, no wall clock.
 */

export interface TestAccount {
  name: string;
  signer: Signer;
  address: string;
  publicKey: string;
}

export function account(name: string): TestAccount {
  const seed = sha256(utf8(`gridledger-test-key:${name}`));
  const signer = new Signer(seed);
  const pub = keyPairFromSeed(seed).publicKey;
  return { name, signer, address: addressFromPublicKey(pub), publicKey: Buffer.from(pub).toString('hex') };
}

export interface TestChainOptions {
  modules?: AppModule[];
  /** extra genesis accounts: name → roles */
  accounts?: Record<string, string[]>;
  genesisModules?: Record<string, unknown>;
  genesisTime?: number;
  chainId?: string;
}

export class TestChain {
  readonly storage = new Storage(':memory:');
  readonly app: App;
  readonly chainId: string;
  readonly operator = account('operator');
  readonly validator = account('validator');
  time: number;
  private readonly nonces = new Map<string, number>();
  lastExecuted: ExecutedBlock | undefined;

  constructor(options: TestChainOptions = {}) {
    this.chainId = options.chainId ?? 'test-chain';
    const modules = options.modules ?? [registryModule];
    this.app = new App(this.storage, {
      chainId: this.chainId,
      modules,
      validatorSet: (store) => listValidators(store).map(({ address, pubKey, power }) => ({ address, pubKey, power })),
    });
    this.time = options.genesisTime ?? Date.UTC(2026, 5, 1, 0, 0, 0);
    const genesis: Genesis = {
      chainId: this.chainId,
      genesisTime: this.time,
      operators: [this.operator.address],
      validators: [{ address: this.validator.address, pubKey: this.validator.publicKey, power: '10' }],
      accounts: Object.entries(options.accounts ?? {}).map(([name, roles]) => ({ address: account(name).address, roles })),
      modules: options.genesisModules ?? {},
    };
    this.app.initGenesis(genesis);
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

  /** Commits one block holding the transactions at the given (or an advanced) block time. */
  block(txs: SignedTx[], time?: number): TxResult[] {
    this.time = time ?? this.time + 1000;
    const height = this.app.height + 1;
    const prev = this.storage.getBlock(height - 1);
    const executed = this.app.executeBlock({ height, time: this.time, proposer: this.validator.address, prevHash: prev?.hash ?? ZERO_HASH, txs, lastCommit: prev?.commit ?? null, evidence: [] });
    const commit: Commit = { height, round: 0, blockHash: executed.hash, signatures: [] };
    this.app.commitBlock(executed, commit);
    this.lastExecuted = executed;
    for (const tx of txs) this.nonces.set(tx.body.sender, tx.body.nonce + 1);
    return executed.results;
  }

  /** One transaction in its own block; returns its result. */
  send(from: TestAccount, msgs: Msg | Msg[], time?: number): TxResult {
    return this.block([this.tx(from, Array.isArray(msgs) ? msgs : [msgs])], time)[0]!;
  }

  get stateRoot(): string {
    return this.app.stateRoot;
  }
}
