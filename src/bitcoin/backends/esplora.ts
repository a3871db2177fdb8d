import { ANCHOR_ERRORS as E } from '../errors.js';
import { verifyAnchorInclusion } from '../verify.js';
import { expectArray, expectHash, expectHex, expectObject, expectUint, httpRequest, parseJson, redacted } from './http.js';
import type { AnchorBroadcastRequest, BitcoinBackend, BroadcastResult, TxInclusion, UnspentOutput } from './types.js';

/**
 * Esplora REST (Blockstream's and mempool.space's API, or a local electrs). Calls used: POST /tx,
 * GET /tx/:txid/hex, /tx/:txid/status, /tx/:txid/merkle-proof (Electrum's format: sibling hashes in
 * display order, leaf to root, and the position), /block/:hash/header, /block/:hash (tx_count, which
 * fixes the branch's shape) and /address/:address/utxo.
 */

export interface EsploraOptions {
  /** Base URL without trailing slash, e.g. http://127.0.0.1:3002 or https://…/signet/api. */
  baseUrl: string;
  timeoutMs?: number;
}

export class EsploraBackend implements BitcoinBackend {
  readonly kind = 'esplora' as const;
  private readonly base: string;

  constructor(private readonly opts: EsploraOptions) {
    this.base = opts.baseUrl.replace(/\/+$/, '');
  }

  private async get(path: string): Promise<{ status: number; text: string }> {
    return httpRequest(`${this.base}${path}`, { method: 'GET', timeoutMs: this.opts.timeoutMs });
  }

  /** GET that must succeed (HTTP 200). */
  private async ok(path: string): Promise<string> {
    const answer = await this.get(path);
    if (answer.status !== 200) throw E.ANCHOR_BACKEND_REJECTED(`GET ${path}: HTTP ${answer.status}: ${answer.text.slice(0, 200)}`);
    return answer.text;
  }

  async broadcast(tx: AnchorBroadcastRequest): Promise<BroadcastResult> {
    const answer = await httpRequest(`${this.base}/tx`, { method: 'POST', body: tx.rawHex, headers: { 'content-type': 'text/plain' }, timeoutMs: this.opts.timeoutMs });
    if (answer.status !== 200) {
      // Esplora passes bitcoind's refusal on; a transaction it already knows (mempool or block) counts as broadcast.
      if (await this.isKnown(tx.txid)) return { txid: tx.txid, locations: [redacted(this.base)] };
      throw E.ANCHOR_BACKEND_REJECTED(`POST /tx: HTTP ${answer.status}: ${answer.text.slice(0, 300)}`);
    }
    const txid = expectHash(answer.text.trim(), 'POST /tx answer');
    if (txid !== tx.txid) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`Esplora reports txid ${txid} for a transaction whose txid is ${tx.txid}`);
    return { txid, locations: [redacted(this.base)] };
  }

  /** /tx/:txid/status answers 200 for a transaction in the mempool or a block, 404 for an unknown one. */
  private async isKnown(txid: string): Promise<boolean> {
    const answer = await this.get(`/tx/${expectHash(txid, 'txid')}/status`);
    return answer.status === 200;
  }

  async listUnspent(address: string): Promise<UnspentOutput[]> {
    if (!/^[a-zA-Z0-9]{14,90}$/.test(address)) throw E.ANCHOR_UTXO_INVALID(`not an address: ${JSON.stringify(address)}`);
    const list = expectArray(parseJson(await this.ok(`/address/${address}/utxo`), 'utxo list'), 'utxo list');
    return list.map((u, i) => {
      const o = expectObject(u, `utxo ${i}`);
      const status = expectObject(o.status, `utxo ${i} status`);
      return { txid: expectHash(o.txid, `utxo ${i} txid`), vout: expectUint(o.vout, `utxo ${i} vout`), value: BigInt(expectUint(o.value, `utxo ${i} value`)), confirmed: status.confirmed === true };
    });
  }

  async getRawTransaction(txid: string): Promise<string | undefined> {
    const answer = await this.get(`/tx/${expectHash(txid, 'txid')}/hex`);
    if (answer.status === 404) return undefined;
    if (answer.status !== 200) throw E.ANCHOR_BACKEND_REJECTED(`GET /tx/${txid}/hex: HTTP ${answer.status}`);
    return expectHex(answer.text.trim(), 'raw transaction');
  }

  async getInclusion(txid: string): Promise<TxInclusion | undefined> {
    const statusAnswer = await this.get(`/tx/${expectHash(txid, 'txid')}/status`);
    if (statusAnswer.status === 404) return undefined;
    if (statusAnswer.status !== 200) throw E.ANCHOR_BACKEND_REJECTED(`GET /tx/${txid}/status: HTTP ${statusAnswer.status}`);
    const status = expectObject(parseJson(statusAnswer.text, 'tx status'), 'tx status');
    if (status.confirmed !== true) return undefined;
    const blockHash = expectHash(status.block_hash, 'block_hash');
    const proof = expectObject(parseJson(await this.ok(`/tx/${txid}/merkle-proof`), 'merkle proof'), 'merkle proof');
    const block = expectObject(parseJson(await this.ok(`/block/${blockHash}`), 'block'), 'block');
    const inclusion: TxInclusion = {
      blockHash,
      blockHeight: expectUint(status.block_height, 'block_height'),
      blockTime: expectUint(status.block_time, 'block_time'),
      blockHeader: await this.getBlockHeader(blockHash),
      branch: {
        index: expectUint(proof.pos, 'merkle proof pos'),
        txCount: expectUint(block.tx_count, 'block tx_count'),
        siblings: expectArray(proof.merkle, 'merkle proof siblings').map((h, i) => expectHash(h, `merkle sibling ${i}`)),
      },
    };
    if (expectUint(proof.block_height, 'merkle proof block_height') !== inclusion.blockHeight) {
      throw E.ANCHOR_BACKEND_BAD_RESPONSE('merkle proof and status name different block heights (a reorganisation in between?)');
    }
    verifyAnchorInclusion(txid, inclusion);
    return inclusion;
  }

  async getBlockHeader(blockHash: string): Promise<string> {
    return expectHex((await this.ok(`/block/${expectHash(blockHash, 'block hash')}/header`)).trim(), 'block header', 80);
  }
}
