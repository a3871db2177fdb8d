import { readFile } from 'node:fs/promises';
import { Decimal } from '@scure/btc-signer';
import { ANCHOR_ERRORS as E } from '../errors.js';
import { buildBitcoinMerkleBranch } from '../merkle.js';
import { verifyAnchorInclusion } from '../verify.js';
import { expectArray, expectHash, expectHex, expectObject, expectUint, httpRequest, parseJson, redacted } from './http.js';
import type { AnchorBroadcastRequest, BitcoinBackend, BroadcastResult, TxInclusion, UnspentOutput } from './types.js';

/**
 * Bitcoin Core over JSON-RPC. Calls used: sendrawtransaction, getrawtransaction (verbose, for the
 * including block: needs -txindex=1 for a confirmed transaction not in the node's wallet),
 * getblockheader, getblock (verbosity 1: the txid list, from which the branch is built and checked
 * against the header) and scantxoutset (the sender's UTXOs, from the UTXO set: confirmed outputs only).
 */

export interface BitcoinCoreRpcOptions {
  /** e.g. http://127.0.0.1:18443/ (regtest), :38332 (signet), :18332 (testnet), :8332 (mainnet). */
  url: string;
  username?: string;
  password?: string;
  /** bitcoind's .cookie file (user "__cookie__"): read on every call, as bitcoind rewrites it when it restarts. */
  cookieFile?: string;
  timeoutMs?: number;
}

/** Bitcoin Core's RPC error codes this client reacts to. */
const RPC_INVALID_ADDRESS_OR_KEY = -5;
const RPC_VERIFY_ALREADY_IN_CHAIN = -27;

class RpcError {
  constructor(readonly code: number, readonly message: string) {}
}

export class BitcoinCoreRpcBackend implements BitcoinBackend {
  readonly kind = 'bitcoind-rpc' as const;
  private nextId = 1;

  constructor(private readonly opts: BitcoinCoreRpcOptions) {}

  private async authorization(): Promise<string | undefined> {
    let credentials: string | undefined;
    if (this.opts.cookieFile) {
      try {
        credentials = (await readFile(this.opts.cookieFile, 'utf8')).trim();
      } catch (err) {
        throw E.ANCHOR_BACKEND_UNREACHABLE(`cannot read the bitcoind cookie file: ${(err as Error).message}`);
      }
    } else if (this.opts.username !== undefined) {
      credentials = `${this.opts.username}:${this.opts.password ?? ''}`;
    }
    return credentials === undefined ? undefined : `Basic ${Buffer.from(credentials, 'utf8').toString('base64')}`;
  }

  /** One JSON-RPC 1.0 call; an RPC-level error is returned (not thrown) so callers can treat "not found" as an answer. */
  private async call(method: string, params: unknown[]): Promise<unknown | RpcError> {
    const auth = await this.authorization();
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (auth) headers.authorization = auth;
    const id = this.nextId++;
    const answer = await httpRequest(this.opts.url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '1.0', id, method, params }), timeoutMs: this.opts.timeoutMs });
    if (answer.status === 401 || answer.status === 403) throw E.ANCHOR_BACKEND_REJECTED(`bitcoind at ${redacted(this.opts.url)} refused the credentials (HTTP ${answer.status})`);
    if (answer.text.length === 0) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${method}: empty answer with HTTP ${answer.status}`);
    const body = expectObject(parseJson(answer.text, method), `${method} answer`);
    if (body.error !== null && body.error !== undefined) {
      const err = expectObject(body.error, `${method} error`);
      return new RpcError(typeof err.code === 'number' ? err.code : 0, typeof err.message === 'string' ? err.message : 'unknown error');
    }
    if (body.id !== id || !('result' in body)) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${method}: answer without result or for another request`);
    return body.result;
  }

  private async result(method: string, params: unknown[]): Promise<unknown> {
    const out = await this.call(method, params);
    if (out instanceof RpcError) throw E.ANCHOR_BACKEND_REJECTED(`${method}: ${out.message} (RPC error ${out.code})`);
    return out;
  }

  async broadcast(tx: AnchorBroadcastRequest): Promise<BroadcastResult> {
    const out = await this.call('sendrawtransaction', [tx.rawHex]);
    // Already confirmed: the broadcast has happened, which is what the caller wants to know.
    if (out instanceof RpcError && out.code !== RPC_VERIFY_ALREADY_IN_CHAIN) throw E.ANCHOR_BACKEND_REJECTED(`sendrawtransaction: ${out.message} (RPC error ${out.code})`);
    if (!(out instanceof RpcError) && expectHash(out, 'sendrawtransaction result') !== tx.txid) {
      throw E.ANCHOR_BACKEND_BAD_RESPONSE(`bitcoind reports txid ${String(out)} for a transaction whose txid is ${tx.txid}`);
    }
    return { txid: tx.txid, locations: [redacted(this.opts.url)] };
  }

  async listUnspent(address: string): Promise<UnspentOutput[]> {
    if (!/^[a-zA-Z0-9]{14,90}$/.test(address)) throw E.ANCHOR_UTXO_INVALID(`not an address: ${JSON.stringify(address)}`);
    const scan = expectObject(await this.result('scantxoutset', ['start', [`addr(${address})`]]), 'scantxoutset result');
    return expectArray(scan.unspents, 'scantxoutset unspents').map((u, i) => {
      const o = expectObject(u, `unspent ${i}`);
      return { txid: expectHash(o.txid, `unspent ${i} txid`), vout: expectUint(o.vout, `unspent ${i} vout`), value: btcToSats(o.amount, `unspent ${i} amount`), confirmed: true };
    });
  }

  async getRawTransaction(txid: string): Promise<string | undefined> {
    const out = await this.call('getrawtransaction', [txid, false]);
    if (out instanceof RpcError) {
      if (out.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
      throw E.ANCHOR_BACKEND_REJECTED(`getrawtransaction: ${out.message} (RPC error ${out.code})`);
    }
    return expectHex(out, 'getrawtransaction result');
  }

  async getInclusion(txid: string): Promise<TxInclusion | undefined> {
    const out = await this.call('getrawtransaction', [txid, true]);
    if (out instanceof RpcError) {
      if (out.code === RPC_INVALID_ADDRESS_OR_KEY) return undefined;
      throw E.ANCHOR_BACKEND_REJECTED(`getrawtransaction: ${out.message} (RPC error ${out.code})`);
    }
    const info = expectObject(out, 'getrawtransaction result');
    if (info.blockhash === undefined) return undefined;
    const blockHash = expectHash(info.blockhash, 'blockhash');
    const headerInfo = expectObject(await this.result('getblockheader', [blockHash, true]), 'getblockheader result');
    // confirmations is -1 for a block that left the best chain: the transaction is not confirmed there.
    if (typeof headerInfo.confirmations !== 'number' || headerInfo.confirmations < 1) return undefined;
    const blockHeader = await this.getBlockHeader(blockHash);
    const block = expectObject(await this.result('getblock', [blockHash, 1]), 'getblock result');
    const txids = expectArray(block.tx, 'getblock tx').map((t, i) => expectHash(t, `block tx ${i}`));
    const index = txids.indexOf(txid);
    if (index < 0) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`block ${blockHash} does not list transaction ${txid}`);
    const inclusion: TxInclusion = {
      blockHash,
      blockHeight: expectUint(headerInfo.height, 'block height'),
      blockTime: expectUint(headerInfo.time, 'block time'),
      blockHeader,
      branch: buildBitcoinMerkleBranch(txids, index),
    };
    verifyAnchorInclusion(txid, inclusion);
    return inclusion;
  }

  async getBlockHeader(blockHash: string): Promise<string> {
    return expectHex(await this.result('getblockheader', [blockHash, false]), 'getblockheader result', 80);
  }
}

/**
 * Core prints amounts as JSON numbers in BTC. A double holding an 8-decimal amount of at most 21e6 BTC
 * is within 3e-9 BTC of it, so rounding to 8 decimals (toFixed, exact decimal rounding) recovers the
 * satoshis exactly; Decimal then parses that string without floating point.
 */
export function btcToSats(amount: unknown, what: string): bigint {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0 || amount > 21_000_000) throw E.ANCHOR_BACKEND_BAD_RESPONSE(`${what} is not an amount in BTC: ${JSON.stringify(amount)}`);
  return Decimal.decode(amount.toFixed(8));
}
