import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Block, Commit } from '../../../src/codec/block.js';
import { signTx, type Msg, type SignedTx } from '../../../src/codec/tx.js';
import { voteSignBytes } from '../../../src/consensus/index.js';
import type { Signer } from '../../../src/crypto/ed25519.js';
import { loadConfig, loadGenesis, openKeyring } from '../../../src/home/home.js';
import { LedgerNode } from '../../../src/ledger/ledger.js';
import { MODULE_CORES } from '../../../src/modules/index.js';
import { initHome } from '../../../src/runtime/init.js';
import { toHex } from '../../../src/util/bytes.js';
import { findCatalogues } from '../../../scripts/errors-doc.js';

/**
 * A small real chain for the decoder fuzzers: a node home (test keyring), a LedgerNode over SQLite
 * in memory with every module, a few committed blocks signed by the one validator (so their commits
 * verify), and a follower node at height 0 for block sync. Nothing listens on the network.
 */

export const WORLD_CHAIN = 'fuzz-chain';

export interface World {
  home: string;
  leader: LedgerNode;
  admin: { address: string; signer: Signer };
  users: Array<{ address: string; signer: Signer }>;
  validator: { address: string; signer: Signer };
  /** Committed blocks 1..n of the leader, with their commits. */
  blocks: Array<{ block: Block; commit: Commit; hash: string }>;
  /** Signed transactions (valid for the leader's next block). */
  txs: SignedTx[];
  /** A node with the same genesis that has applied blocks 1..n−1 (block n is the next to sync). */
  follower(): LedgerNode;
  close(): void;
}

const USERS = { alice: ['trader', 'prosumer'], bob: ['consumer', 'trader'], utility: ['utility'], meter1: ['meter'] };

export function newNode(home: string): LedgerNode {
  const config = loadConfig(home);
  return new LedgerNode({
    config: { ...config, mempool: { ...config.mempool, maxTxs: 50_000 } },
    genesis: loadGenesis(home),
    dbPath: ':memory:',
    validatorSigner: openKeyring(home, 'test').signer('validator'),
    modules: MODULE_CORES,
    logger: pino({ level: 'silent' }),
    verifyWorkers: 0,
  });
}

export function signCommit(validator: { address: string; signer: Signer }, height: number, blockHash: string, timestamp: number): Commit {
  const unsigned = { chainId: WORLD_CHAIN, type: 'precommit' as const, height, round: 0, blockHash, timestamp, validator: validator.address };
  return { height, round: 0, blockHash, signatures: [{ validator: validator.address, timestamp, signature: toHex(validator.signer.sign(voteSignBytes(unsigned))) }] };
}

export function createWorld(blockCount = 3): World {
  const home = mkdtempSync(join(tmpdir(), 'gridledger-fuzz-'));
  initHome(home, { chainId: WORLD_CHAIN, keyringBackend: 'test', apiPort: 0, extraAccounts: USERS });
  const keyring = openKeyring(home, 'test');
  const key = (name: string) => ({ address: keyring.show(name).address, signer: keyring.signer(name) });
  const admin = key('admin');
  const validator = key('validator');
  const users = Object.keys(USERS).map(key);
  const leader = newNode(home);
  const genesisTime = leader.genesisTime;
  const nonces = new Map<string, number>();
  const sign = (from: { address: string; signer: Signer }, msgs: Msg[]): SignedTx => {
    const nonce = nonces.get(from.address) ?? 0;
    nonces.set(from.address, nonce + 1);
    return signTx({ chainId: WORLD_CHAIN, sender: from.address, nonce, expiresAtHeight: 1_000_000, msgs, memo: `n${nonce}` }, from.signer);
  };
  const admits = (n: number) => Array.from({ length: n }, (_, i) => sign(admin, [{ type: 'registry/admit', value: { address: users[i % users.length]!.address, roles: ['auditor'] } }]));
  const blocks: World['blocks'] = [];
  let lastCommit: Commit | null = null;
  for (let h = 1; h <= blockCount; h++) {
    for (const tx of admits(2)) leader.submitTx(tx);
    const time = genesisTime + h * 1000;
    const executed = leader.buildExecutedBlock({ time, proposer: validator.address, lastCommit, evidence: [] });
    const commit = signCommit(validator, h, executed.hash, time + 500);
    leader.commitBlock(executed, commit);
    blocks.push({ block: executed.block, commit, hash: executed.hash });
    lastCommit = commit;
  }
  const txs = [
    ...admits(2),
    sign(users[0]!, [{ type: 'energy/create-community', value: { id: 'hood', name: 'Hood', timezone: 'Europe/Amsterdam' } }]),
    sign(users[2]!, [{ type: 'settlement/set-tariff', value: { importMicroEurPerKwh: 250_000, feedInMicroEurPerKwh: 80_000, fromSlot: 99_999_999 } }]),
  ];
  const nodes: LedgerNode[] = [leader];
  return {
    home,
    leader,
    admin,
    users,
    validator,
    blocks,
    txs,
    follower() {
      // Forget followers the target closed already: kept, they pinned every closed node's caches
      // until the end of the run (the block target's "+20 MiB after GC", issue 9).
      for (let i = nodes.length - 1; i > 0; i--) if (!nodes[i]!.storage.db.open) nodes.splice(i, 1);
      const node = newNode(home);
      nodes.push(node);
      for (const b of blocks.slice(0, -1)) node.applySyncedBlock(b.block, b.commit);
      return node;
    },
    close() {
      for (const n of nodes) n.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

let codes: Promise<ReadonlySet<string>> | undefined;

/** Every error code declared in a catalogue of src/ or sim/. */
export function declaredCodes(): Promise<ReadonlySet<string>> {
  codes ??= findCatalogues().then((all) => new Set(all.flatMap((c) => c.entries.map((e) => e.code))));
  return codes;
}
