import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Address, OutScript } from '@scure/btc-signer';
import { parseBitcoinTx } from '../../src/bitcoin/index.js';
import { BTC_SIGNER_NETWORKS } from '../../src/bitcoin/service.js';

/**
 * A tiny stand-in for a regtest Bitcoin network, for testing the JSON-RPC and Esplora clients: it
 * keeps transactions, a mempool and mined blocks with real headers (regtest difficulty, nonce ground
 * until hash ≤ target) and real Merkle roots, and serves both protocols on 127.0.0.1. It is not a
 * consensus implementation: it checks only that inputs exist and are unspent. No real bitcoind was
 * available on this machine; docs/anchor.md says how to run against one.
 */

const sha256d = (b: Uint8Array) => createHash('sha256').update(createHash('sha256').update(b).digest()).digest();
const rev = (hex: string) => Buffer.from(hex, 'hex').reverse().toString('hex');
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b.toString('hex');
};
const u64 = (n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return b.toString('hex');
};
const REGTEST_BITS = 0x207fffff;
const REGTEST_TARGET = BigInt('0x7fffff0000000000000000000000000000000000000000000000000000000000');

interface Block {
  hash: string;
  height: number;
  time: number;
  header: string;
  txids: string[];
}

interface Output {
  txid: string;
  vout: number;
  value: bigint;
  scriptHex: string;
}

export class FakeChain {
  readonly txs = new Map<string, string>();
  readonly mempool: string[] = [];
  readonly blocks: Block[] = [];
  private readonly blockOf = new Map<string, Block>();
  private fundCounter = 0;

  scriptOf(address: string): string {
    return Buffer.from(OutScript.encode(Address(BTC_SIGNER_NETWORKS.regtest).decode(address))).toString('hex');
  }

  /** Creates and mines a transaction paying `value` to `address` (its input is invented). */
  fund(address: string, value: bigint): string {
    const script = this.scriptOf(address);
    const prev = createHash('sha256').update(`funding-${this.fundCounter++}`).digest('hex');
    const raw = `02000000` + `01${prev}00000000` + `0151` + `ffffffff` + `01${u64(value)}${(script.length / 2).toString(16).padStart(2, '0')}${script}` + `00000000`;
    const txid = this.store(raw);
    this.mempool.push(txid);
    this.mine();
    return txid;
  }

  private store(raw: string): string {
    const tx = parseBitcoinTx(raw);
    this.txs.set(tx.txid, raw);
    return tx.txid;
  }

  private spentBy(txid: string, vout: number): string | undefined {
    for (const [id, raw] of this.txs) if (parseBitcoinTx(raw).inputs.some((i) => i.txid === txid && i.vout === vout)) return id;
    return undefined;
  }

  /** Accepts a transaction into the mempool; returns an error message like bitcoind's, or the txid. */
  accept(raw: string): { txid: string } | { error: string; code: number } {
    let tx;
    try {
      tx = parseBitcoinTx(raw);
    } catch {
      return { error: 'TX decode failed', code: -22 };
    }
    if (this.blockOf.has(tx.txid)) return { error: 'Transaction already in block chain', code: -27 };
    if (this.mempool.includes(tx.txid)) return { txid: tx.txid };
    for (const input of tx.inputs) {
      const prev = this.txs.get(input.txid);
      if (!prev || !parseBitcoinTx(prev).outputs[input.vout] || this.spentBy(input.txid, input.vout)) return { error: 'bad-txns-inputs-missingorspent', code: -25 };
    }
    this.store(raw);
    this.mempool.push(tx.txid);
    return { txid: tx.txid };
  }

  /** Mines the mempool into a block behind a coinbase and three filler transactions (so branches have depth). */
  mine(): Block {
    const height = this.blocks.length;
    const coinbase = `02000000` + `01${'00'.repeat(32)}ffffffff` + `0603${u32(height).slice(0, 6)}0151` + `ffffffff` + `01${u64(0n)}0151` + `00000000`;
    const fillers = [1, 2, 3].map((k) => `01000000` + `01${createHash('sha256').update(`filler-${height}-${k}`).digest('hex')}00000000` + `0151ffffffff` + `01${u64(BigInt(k))}0151` + `00000000`);
    const txids = [coinbase, ...fillers].map((raw) => this.store(raw));
    txids.splice(2, 0, ...this.mempool.splice(0));
    const prev = this.blocks.length ? this.blocks[this.blocks.length - 1]!.hash : '00'.repeat(32);
    const time = 1_700_000_000 + height * 600;
    let header = '';
    let hash = '';
    for (let nonce = 0; ; nonce++) {
      header = `20000000${rev(prev)}${rev(merkleRoot(txids))}${u32(time)}${u32(REGTEST_BITS)}${u32(nonce)}`;
      hash = rev(sha256d(Buffer.from(header, 'hex')).toString('hex'));
      if (BigInt(`0x${hash}`) <= REGTEST_TARGET) break;
    }
    const block = { hash, height, time, header, txids };
    this.blocks.push(block);
    for (const t of txids) this.blockOf.set(t, block);
    return block;
  }

  block(hash: string): Block | undefined {
    return this.blocks.find((b) => b.hash === hash);
  }

  including(txid: string): Block | undefined {
    return this.blockOf.get(txid);
  }

  /** Unspent outputs paying `address` (mempool ones too). */
  unspent(address: string): (Output & { confirmed: boolean })[] {
    const script = this.scriptOf(address);
    const out: (Output & { confirmed: boolean })[] = [];
    for (const [txid, raw] of this.txs) {
      parseBitcoinTx(raw).outputs.forEach((o, vout) => {
        if (o.scriptHex === script && !this.spentBy(txid, vout)) out.push({ txid, vout, value: o.value, scriptHex: o.scriptHex, confirmed: this.blockOf.has(txid) });
      });
    }
    return out;
  }
}

/** Merkle root and Electrum-style proof, written here independently of src/bitcoin/merkle.ts. */
function merkleLevels(txids: string[]): string[][] {
  const levels = [txids.map(rev)];
  while (levels[levels.length - 1]!.length > 1) {
    const cur = levels[levels.length - 1]!;
    const next: string[] = [];
    for (let i = 0; i < cur.length; i += 2) next.push(sha256d(Buffer.from(cur[i]! + (cur[i + 1] ?? cur[i]!), 'hex')).toString('hex'));
    levels.push(next);
  }
  return levels;
}

export function merkleRoot(txids: string[]): string {
  const levels = merkleLevels(txids);
  return rev(levels[levels.length - 1]![0]!);
}

export function electrumProof(txids: string[], pos: number): string[] {
  const levels = merkleLevels(txids);
  const out: string[] = [];
  let i = pos;
  for (const level of levels.slice(0, -1)) {
    out.push(rev(level[i ^ 1] ?? level[i]!));
    i >>= 1;
  }
  return out;
}

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export interface RunningServer {
  url: string;
  server: Server;
  close(): Promise<void>;
  /** Test hook: rewrite an answer before it is sent. */
  tamper?: (path: string, answer: unknown) => unknown;
}

async function listen(handler: (req: IncomingMessage, res: ServerResponse, srv: RunningServer) => Promise<void>): Promise<RunningServer> {
  const running = {} as RunningServer;
  const server = createServer((req, res) => {
    handler(req, res, running).catch((err) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(running, { url: `http://127.0.0.1:${port}`, server, close: () => new Promise<void>((r) => server.close(() => r())) });
  return running;
}

/** Bitcoin Core's JSON-RPC as far as the client uses it, with HTTP basic auth. */
export function startFakeBitcoind(chain: FakeChain, credentials: string): Promise<RunningServer> {
  return listen(async (req, res, srv) => {
    if (req.headers.authorization !== `Basic ${Buffer.from(credentials).toString('base64')}`) {
      res.statusCode = 401;
      res.end();
      return;
    }
    const call = JSON.parse(await body(req)) as { id: number; method: string; params: unknown[] };
    const reply = (result: unknown, error: { code: number; message: string } | null = null) => {
      res.statusCode = error ? 500 : 200;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ result: error ? null : srv.tamper ? srv.tamper(call.method, result) : result, error, id: call.id }));
    };
    const p = call.params;
    switch (call.method) {
      case 'sendrawtransaction': {
        const out = chain.accept(p[0] as string);
        return 'error' in out ? reply(null, { code: out.code, message: out.error }) : reply(out.txid);
      }
      case 'getrawtransaction': {
        const raw = chain.txs.get(p[0] as string);
        if (!raw) return reply(null, { code: -5, message: 'No such mempool or blockchain transaction. Use gettransaction for wallet transactions.' });
        if (!p[1]) return reply(raw);
        const block = chain.including(p[0] as string);
        return reply({ txid: p[0], hex: raw, ...(block ? { blockhash: block.hash, confirmations: chain.blocks.length - block.height, blocktime: block.time } : {}) });
      }
      case 'getblockheader': {
        const block = chain.block(p[0] as string);
        if (!block) return reply(null, { code: -5, message: 'Block not found' });
        return reply(p[1] === false ? block.header : { hash: block.hash, height: block.height, time: block.time, confirmations: chain.blocks.length - block.height });
      }
      case 'getblock': {
        const block = chain.block(p[0] as string);
        if (!block) return reply(null, { code: -5, message: 'Block not found' });
        return reply({ hash: block.hash, height: block.height, tx: block.txids });
      }
      case 'scantxoutset': {
        const address = /^addr\((.+)\)$/.exec((p[1] as string[])[0]!)![1]!;
        const unspents = chain.unspent(address).filter((u) => u.confirmed);
        return reply({ success: true, unspents: unspents.map((u) => ({ txid: u.txid, vout: u.vout, scriptPubKey: u.scriptHex, amount: Number(u.value) / 1e8, height: chain.including(u.txid)!.height })) });
      }
      default:
        return reply(null, { code: -32601, message: 'Method not found' });
    }
  });
}

/** Esplora's REST API as far as the client uses it. */
export function startFakeEsplora(chain: FakeChain): Promise<RunningServer> {
  return listen(async (req, res, srv) => {
    const path = new URL(req.url!, 'http://x').pathname;
    const send = (status: number, answer: unknown) => {
      const out = srv.tamper ? srv.tamper(path, answer) : answer;
      res.statusCode = status;
      res.end(typeof out === 'string' ? out : JSON.stringify(out));
    };
    if (req.method === 'POST' && path === '/tx') {
      const out = chain.accept((await body(req)).trim());
      return 'error' in out ? send(400, `sendrawtransaction RPC error: {"code":${out.code},"message":"${out.error}"}`) : send(200, out.txid);
    }
    let m: RegExpExecArray | null;
    if ((m = /^\/tx\/([0-9a-f]{64})\/hex$/.exec(path))) return chain.txs.has(m[1]!) ? send(200, chain.txs.get(m[1]!)) : send(404, 'Transaction not found');
    if ((m = /^\/tx\/([0-9a-f]{64})\/status$/.exec(path))) {
      if (!chain.txs.has(m[1]!)) return send(404, 'Transaction not found');
      const b = chain.including(m[1]!);
      return send(200, b ? { confirmed: true, block_height: b.height, block_hash: b.hash, block_time: b.time } : { confirmed: false });
    }
    if ((m = /^\/tx\/([0-9a-f]{64})\/merkle-proof$/.exec(path))) {
      const b = chain.including(m[1]!);
      if (!b) return send(404, 'Transaction not found or is unconfirmed');
      const pos = b.txids.indexOf(m[1]!);
      return send(200, { block_height: b.height, merkle: electrumProof(b.txids, pos), pos });
    }
    if ((m = /^\/block\/([0-9a-f]{64})\/header$/.exec(path))) return chain.block(m[1]!) ? send(200, chain.block(m[1]!)!.header) : send(404, 'Block not found');
    if ((m = /^\/block\/([0-9a-f]{64})$/.exec(path))) {
      const b = chain.block(m[1]!);
      return b ? send(200, { id: b.hash, height: b.height, tx_count: b.txids.length, timestamp: b.time }) : send(404, 'Block not found');
    }
    if ((m = /^\/address\/([a-z0-9]+)\/utxo$/.exec(path))) {
      return send(200, chain.unspent(m[1]!).map((u) => ({ txid: u.txid, vout: u.vout, value: Number(u.value), status: u.confirmed ? { confirmed: true, block_height: chain.including(u.txid)!.height } : { confirmed: false } })));
    }
    send(404, 'not found');
  });
}
