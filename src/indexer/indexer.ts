import pg from 'pg';
import { callRoute } from '../api/client.js';
import { coreRoutes } from '../api/routes.js';
import type { ValidatorInfo } from '../app/host.js';
import { blockHash, resultRoot, txRoot, type Block, type Commit, type TxResult } from '../codec/block.js';
import { txHash, type SignedTx } from '../codec/tx.js';
import { stepTrust, type SignedHeader, type TrustedState } from '../light/verify.js';
import { lightRoutes } from '../surface/prove.js';
import { defineErrors } from '../util/errors.js';
import { DATA_TABLES, SCHEMA_SQL } from './schema.js';

/**
 * The PostgreSQL indexer (issue 17 #6, docs/indexer.md): follows a node through its block API,
 * verifies every block as a light client does (the commit carries > 2/3 of the power of the set the
 * previous verified block named; the served transactions and results hash to the header's roots),
 * and writes each block with its transactions, messages, results, events and the module tables
 * derived from its successful messages in ONE SQL transaction that also moves `indexer_state` — so a
 * crash at any point leaves the database at a block boundary, and a restart continues from there.
 * It never trusts the node: only the trusted genesis (or header) it started from.
 */

export const INDEXER_ERRORS = defineErrors('indexer', {
  INDEXER_BLOCK_INVALID: { meaning: "a block the node served does not verify (commit, header link, transaction or result root); nothing of it was written" },
  INDEXER_CHAIN_MISMATCH: { meaning: 'the database indexes another chain, or the trusted state does not match it' },
});

export interface IndexerOptions {
  nodeUrl: string;
  postgresUrl: string;
  /** Where the chain starts when the database is empty. */
  trusted: TrustedState;
  /** Poll interval when caught up (ms). */
  pollMs?: number;
  /** Stop after indexing this height (tests, benchmarks). */
  untilHeight?: number;
  onBlock?: (height: number) => void;
  signal?: AbortSignal;
}

interface BlockEnvelope {
  hash: string;
  block: Block;
  commit: Commit;
  results: TxResult[];
}

export async function openDatabase(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(SCHEMA_SQL);
  } catch (e) {
    await client.end();
    throw e;
  }
  return client;
}

/** The trusted state stored with the last indexed block, or the starting trust for an empty database. */
async function loadTrust(db: pg.Client, start: TrustedState): Promise<TrustedState> {
  const { rows } = await db.query<{ chain_id: string; height: string; block_hash: string; block_time_ms: string; next_validators: ValidatorInfo[]; header: SignedHeader['header'] | null }>(
    'SELECT s.chain_id, s.height, s.block_hash, s.block_time_ms, s.next_validators, b.header FROM indexer_state s LEFT JOIN blocks b ON b.height = s.height WHERE s.id = 1',
  );
  const row = rows[0];
  if (!row) return start;
  if (row.chain_id !== start.chainId) throw INDEXER_ERRORS.INDEXER_CHAIN_MISMATCH(`the database indexes chain ${row.chain_id}, the trusted state is for ${start.chainId}`);
  return { chainId: row.chain_id, height: Number(row.height), time: Number(row.block_time_ms), header: row.header, nextValidators: row.next_validators };
}

/** Verifies a served block against the trusted state; returns the new trusted state. */
export function verifyServedBlock(trusted: TrustedState, env: BlockEnvelope, light: SignedHeader & { nextValidators: ValidatorInfo[] }): TrustedState {
  const height = trusted.height + 1;
  const { block } = env;
  const fail = (why: string) => INDEXER_ERRORS.INDEXER_BLOCK_INVALID(`height ${height}: ${why}`);
  if (block.header.height !== height) throw fail(`served height ${block.header.height}`);
  const hash = blockHash(block.header);
  if (env.hash !== hash || light.commit.blockHash !== hash || blockHash(light.header) !== hash) throw fail('the block, its hash and the signed header do not agree');
  if (trusted.header && block.header.prevHash !== blockHash(trusted.header)) throw fail('does not link to the last indexed block');
  let outcome;
  try {
    outcome = stepTrust(trusted, { header: block.header, commit: light.commit, validators: light.validators }, light.nextValidators);
  } catch (e) {
    throw fail((e as Error).message);
  }
  if (!outcome.ok) throw fail('not signed by the trusted validators');
  if (txRoot(block.txs) !== block.header.txRoot) throw fail('transactions do not hash to the header txRoot');
  if (env.results.length !== block.txs.length || resultRoot(env.results) !== block.header.resultRoot) throw fail('results do not hash to the header resultRoot');
  return outcome.trusted;
}

type Row = unknown[];

/** Every row a block contributes, by table (module tables from its successful messages). */
export function rowsOfBlock(env: BlockEnvelope): Record<string, Row[]> {
  const { block, commit, results } = env;
  const h = block.header.height;
  const out: Record<string, Row[]> = { blocks: [], txs: [], messages: [], events: [], communities: [], meters: [], readings: [], payments: [] };
  out.blocks!.push([h, env.hash, block.header.time, block.header.proposer, block.txs.length, block.header.stateRoot, JSON.stringify(block.header), JSON.stringify(commit)]);
  block.txs.forEach((tx: SignedTx, i) => {
    const hash = txHash(tx.body);
    const result = results[i]!;
    const ok = result.code === 'OK';
    out.txs!.push([hash, h, i, tx.body.sender, tx.body.nonce, tx.body.memo, result.code, result.message]);
    result.events.forEach((e, j) => out.events!.push([h, i, j, hash, e.type, JSON.stringify(e.attributes)]));
    tx.body.msgs.forEach((m, k) => {
      out.messages!.push([h, i, k, hash, m.type, JSON.stringify(m.value), ok]);
      if (ok) moduleRows(out, { h, i, k, hash, sender: tx.body.sender, type: m.type, value: m.value as Record<string, unknown>, events: result.events });
    });
  });
  return out;
}

function moduleRows(out: Record<string, Row[]>, m: { h: number; i: number; k: number; hash: string; sender: string; type: string; value: Record<string, unknown>; events: TxResult['events'] }): void {
  const v = m.value;
  switch (m.type) {
    case 'energy/create-community': {
      // the ledger may assign the id; the event names it (one community per message, in message order)
      const created = m.events.filter((e) => e.type === 'energy.community_created');
      const id = (v.id as string | undefined) ?? created[0]?.attributes.id;
      if (id) out.communities!.push([id, v.name, v.timezone, m.sender, v.parent ?? null, m.h]);
      break;
    }
    case 'energy/add-meter':
      out.meters!.push([v.community, v.meterId, v.kind, v.trader, m.h]);
      break;
    case 'metering/reading':
      out.readings!.push([v.meterId, v.slot, v.importWh, v.exportWh, m.h, m.hash]);
      break;
    case 'payments/transfer':
      out.payments!.push([m.h, m.i, m.k, 'transfer', v.asset, m.sender, v.to, v.amount]);
      break;
    case 'payments/mint':
      out.payments!.push([m.h, m.i, m.k, 'mint', v.asset, null, v.to, v.amount]);
      break;
    case 'payments/redeem':
      out.payments!.push([m.h, m.i, m.k, 'redeem', v.asset, m.sender, null, v.amount]);
      break;
  }
}

/** Conflict targets: a row already there (a block half-written before a crash cannot exist, but re-running a block is harmless). */
const INSERTS: Record<string, { columns: string[]; conflict: string }> = {
  blocks: { columns: ['height', 'hash', 'time_ms', 'proposer', 'tx_count', 'state_root', 'header', 'commit'], conflict: '(height)' },
  txs: { columns: ['hash', 'height', 'idx', 'sender', 'nonce', 'memo', 'code', 'message'], conflict: '(hash)' },
  messages: { columns: ['height', 'tx_idx', 'msg_idx', 'tx_hash', 'type', 'value', 'ok'], conflict: '(height, tx_idx, msg_idx)' },
  events: { columns: ['height', 'tx_idx', 'event_idx', 'tx_hash', 'type', 'attributes'], conflict: '(height, tx_idx, event_idx)' },
  communities: { columns: ['id', 'name', 'timezone', 'owner', 'parent', 'height'], conflict: '(id)' },
  meters: { columns: ['community', 'meter_id', 'kind', 'trader', 'height'], conflict: '(community, meter_id)' },
  readings: { columns: ['meter_id', 'slot', 'import_wh', 'export_wh', 'height', 'tx_hash'], conflict: '(meter_id, slot)' },
  payments: { columns: ['height', 'tx_idx', 'msg_idx', 'kind', 'asset', 'from_address', 'to_address', 'amount'], conflict: '(height, tx_idx, msg_idx)' },
};

async function insertRows(db: pg.Client, table: string, rows: Row[]): Promise<void> {
  const spec = INSERTS[table]!;
  const n = spec.columns.length;
  // batches below PostgreSQL's 65,535 parameters
  const per = Math.floor(60_000 / n);
  for (let start = 0; start < rows.length; start += per) {
    const chunk = rows.slice(start, start + per);
    const values = chunk.map((_, r) => `(${spec.columns.map((__, c) => `$${r * n + c + 1}`).join(', ')})`).join(', ');
    await db.query(`INSERT INTO ${table} (${spec.columns.join(', ')}) VALUES ${values} ON CONFLICT ${spec.conflict} DO NOTHING`, chunk.flat());
  }
}

/** Writes one verified block and moves indexer_state, in one SQL transaction. Returns the rows written. */
export async function writeBlock(db: pg.Client, env: BlockEnvelope, trusted: TrustedState): Promise<number> {
  const rows = rowsOfBlock(env);
  await db.query('BEGIN');
  try {
    let count = 0;
    for (const table of ['blocks', 'txs', 'messages', 'events', 'communities', 'meters', 'readings', 'payments']) {
      await insertRows(db, table, rows[table]!);
      count += rows[table]!.length;
    }
    const state = [trusted.chainId, trusted.height, blockHash(trusted.header!), trusted.time, JSON.stringify(trusted.nextValidators)];
    const moved = await db.query(
      `INSERT INTO indexer_state (id, chain_id, height, block_hash, block_time_ms, next_validators) VALUES (1, $1, $2, $3, $4, $5)
       ON CONFLICT (id) DO UPDATE SET height = excluded.height, block_hash = excluded.block_hash, block_time_ms = excluded.block_time_ms, next_validators = excluded.next_validators
       WHERE indexer_state.height = excluded.height - 1`,
      state,
    );
    // Another indexer process moved the state meanwhile: this transaction must not land.
    if (moved.rowCount !== 1) throw INDEXER_ERRORS.INDEXER_CHAIN_MISMATCH(`indexer_state is not at height ${trusted.height - 1}: is another indexer writing to this database?`);
    await db.query('COMMIT');
    return count;
  } catch (e) {
    await db.query('ROLLBACK').catch(() => undefined);
    throw e;
  }
}

/** Empties the indexer's tables (a re-index from scratch). */
export async function resetDatabase(db: pg.Client): Promise<void> {
  await db.query(`TRUNCATE ${DATA_TABLES.join(', ')}`);
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal?.addEventListener('abort', () => (clearTimeout(t), r()), { once: true });
});

export interface IndexerRun {
  height: number;
  blocks: number;
  rows: number;
}

/** Follows the node until `untilHeight` (or the signal aborts), writing each verified block. */
export async function runIndexer(options: IndexerOptions): Promise<IndexerRun> {
  const db = await openDatabase(options.postgresUrl);
  const run: IndexerRun = { height: 0, blocks: 0, rows: 0 };
  try {
    let trusted = await loadTrust(db, options.trusted);
    run.height = trusted.height;
    while (!options.signal?.aborted) {
      if (options.untilHeight !== undefined && trusted.height >= options.untilHeight) break;
      const { height: tip } = await callRoute(options.nodeUrl, coreRoutes.status, {});
      if (tip <= trusted.height) {
        await sleep(options.pollMs ?? 250, options.signal);
        continue;
      }
      const h = trusted.height + 1;
      const [env, light] = await Promise.all([
        callRoute(options.nodeUrl, coreRoutes.getBlock, { params: { height: h } }) as unknown as Promise<BlockEnvelope>,
        callRoute(options.nodeUrl, lightRoutes.signedHeader, { params: { height: h } }) as unknown as Promise<SignedHeader & { nextValidators: ValidatorInfo[] }>,
      ]);
      const next = verifyServedBlock(trusted, env, light);
      run.rows += await writeBlock(db, env, next);
      trusted = next;
      run.height = h;
      run.blocks++;
      options.onBlock?.(h);
    }
    return run;
  } finally {
    await db.end();
  }
}
