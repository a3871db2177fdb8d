import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ANCHOR_ERRORS as E } from '../errors.js';
import { parseBitcoinTx } from '../tx.js';
import type { AnchorBroadcastRequest, BitcoinBackend, BroadcastResult, TxInclusion, UnspentOutput } from './types.js';

/**
 * No endpoint: each transaction is written as `<height>-<txid>.hex` (raw transaction, for
 * `bitcoin-cli sendrawtransaction` or any explorer's broadcast page) and `<height>-<txid>.psbt`
 * (base64 PSBT) into a folder. Querying the network is impossible here: those calls throw
 * ANCHOR_BACKEND_OFFLINE, and inclusion data comes back through the operator (header from a file).
 */

export interface OfflineOptions {
  dir: string;
}

export class OfflineBackend implements BitcoinBackend {
  readonly kind = 'offline' as const;

  constructor(private readonly opts: OfflineOptions) {}

  async broadcast(tx: AnchorBroadcastRequest): Promise<BroadcastResult> {
    if (!Number.isSafeInteger(tx.height) || tx.height < 0) throw E.ANCHOR_CHECKPOINT_INVALID(`height must be a safe non-negative integer, got ${tx.height}`);
    // The txid names the files, so it must be the transaction's own (and is then plain hex: no path tricks).
    const parsed = parseBitcoinTx(tx.rawHex);
    if (parsed.txid !== tx.txid) throw E.ANCHOR_BTC_TXID_MISMATCH(`raw transaction has txid ${parsed.txid}, given ${tx.txid}`);
    await mkdir(this.opts.dir, { recursive: true }).catch((err: Error) => {
      throw E.ANCHOR_OFFLINE_WRITE_FAILED(`cannot create ${this.opts.dir}: ${err.message}`);
    });
    const base = join(this.opts.dir, `${tx.height}-${tx.txid}`);
    const files = [{ path: `${base}.hex`, content: `${tx.rawHex}\n` }];
    if (tx.psbtBase64 !== undefined) files.push({ path: `${base}.psbt`, content: `${tx.psbtBase64}\n` });
    for (const f of files) await writeOnce(f.path, f.content);
    return { txid: tx.txid, locations: files.map((f) => f.path) };
  }

  async listUnspent(_address: string): Promise<UnspentOutput[]> {
    throw E.ANCHOR_BACKEND_OFFLINE('the offline backend cannot list UTXOs; give them to the builder from your own wallet or explorer');
  }

  async getRawTransaction(_txid: string): Promise<string | undefined> {
    throw E.ANCHOR_BACKEND_OFFLINE('the offline backend cannot look up transactions');
  }

  async getInclusion(_txid: string): Promise<TxInclusion | undefined> {
    throw E.ANCHOR_BACKEND_OFFLINE('the offline backend cannot see blocks; record the including block from a header file');
  }

  async getBlockHeader(_blockHash: string): Promise<string> {
    throw E.ANCHOR_BACKEND_OFFLINE('the offline backend cannot fetch block headers');
  }
}

/**
 * Writes through a temporary file and a rename, so a reader never sees half a transaction. Writing the
 * same content again is a no-op (a retried broadcast); different content under the same name is refused.
 */
async function writeOnce(path: string, content: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing !== undefined) {
    if (existing === content) return;
    throw E.ANCHOR_OFFLINE_WRITE_FAILED(`${path} exists with different content`);
  }
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, content, { flag: 'w' });
    await rename(tmp, path);
  } catch (err) {
    throw E.ANCHOR_OFFLINE_WRITE_FAILED(`cannot write ${path}: ${(err as Error).message}`);
  }
}
