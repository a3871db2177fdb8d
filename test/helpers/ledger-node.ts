import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { configSchema } from '../../src/home/home.js';
import { LedgerNode } from '../../src/ledger/ledger.js';
import { MODULE_CORES } from '../../src/modules/index.js';
import { account, type TestAccount } from './chain.js';

/**
 * Ledger nodes without networking or API, each on a database in its own temporary folder: a chain whose
 * only operator is `operator` and whose one validator is `validator` (signatures verified inline).
 * `close()` closes every node made and removes the folders.
 */
export class LedgerNodes {
  readonly operator: TestAccount = account('operator');
  readonly validator: TestAccount = account('validator');
  private readonly made: Array<{ node: LedgerNode; dir: string }> = [];

  constructor(private readonly chainId: string) {}

  make(mempool: { maxTxs: number; maxBytes?: number; nonceWindow: number } = { maxTxs: 100, nonceWindow: 10 }, options: { stateTreeWorker?: boolean; treeCacheMiB?: number } = {}): LedgerNode {
    const dir = mkdtempSync(join(tmpdir(), `gridledger-${this.chainId}-`));
    const storage = options.treeCacheMiB !== undefined ? { treeCacheMiB: options.treeCacheMiB } : undefined;
    const config = configSchema.parse({ chainId: this.chainId, moniker: 'n', keyringBackend: 'test', api: {}, mempool: { maxBytes: 1 << 24, ...mempool }, storage });
    const node = new LedgerNode({
      config,
      genesis: { chainId: this.chainId, genesisTime: 0, operators: [this.operator.address], validators: [{ address: this.validator.address, pubKey: this.validator.publicKey, power: '10' }], accounts: [], modules: {} },
      dbPath: join(dir, 'ledger.db'),
      validatorSigner: this.validator.signer,
      modules: MODULE_CORES,
      logger: pino({ level: 'silent' }),
      verifyWorkers: 0,
      stateTreeWorker: options.stateTreeWorker,
    });
    this.made.push({ node, dir });
    return node;
  }

  close(): void {
    for (const { node, dir } of this.made.splice(0)) {
      node.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
