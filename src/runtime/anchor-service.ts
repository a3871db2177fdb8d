import { randomBytes } from 'node:crypto';
import { existsSync, fsyncSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { z } from 'zod';
import { callRoute } from '../api/client.js';
import { coreRoutes } from '../api/routes.js';
import type { RouteDef, RouteInput, RouteOutput } from '../api/route.js';
import { checkpointDigest, checkpointPayload, parseBitcoinTx } from '../bitcoin/index.js';
import {
  AnchorWallet,
  BitcoinCoreRpcBackend,
  buildAnchorTx,
  EsploraBackend,
  OfflineBackend,
  type AnchorAddress,
  type AnchorUtxo,
  type BitcoinBackend,
} from '../bitcoin/service.js';
import { hashSchema, signTx, type Msg } from '../codec/tx.js';
import type { Keyring } from '../crypto/keyring.js';
import { loadConfig, openKeyring, paths } from '../home/home.js';
import { E } from '../modules/anchor/errors.js';
import { MSG, networkSchema } from '../modules/anchor/messages.js';
import { anchorRoutes } from '../modules/anchor/routes.js';
import { checkpointOf } from '../modules/anchor/rules.js';
import { LedgerError, remoteError } from '../util/errors.js';
import { claimPidLock, releasePidLock } from '../util/pid-lock.js';

/**
 * The anchor service: the part of the anchor operator's node that talks to Bitcoin (issue 15). It
 * runs only where the home has `anchor.json` (and the operator key holds role anchor-operator on the
 * ledger); every other node only verifies.
 *
 * Each round (on every committed block, or every pollIntervalMs):
 *   1. for each checkpoint without an anchor record, oldest first: build the anchor transaction from
 *      the HD wallet (anchor number n = anchors recorded so far pays from address n mod N to the next
 *      one), write it to the journal, broadcast it (Core RPC, Esplora, or files for offline
 *      broadcast), and submit `anchor/record`;
 *   2. for each recorded anchor without its block: ask the backend for the inclusion (header and
 *      Merkle branch) and submit `anchor/confirm`. Offline, the operator submits it by hand
 *      (`gridledger tx anchor confirm`).
 *
 * It reaches the ledger only through the node's HTTP API, so it runs in the node's process or as
 * `gridledger anchor run` next to it. Idempotent across restarts: a transaction is journalled
 * (HOME/data/anchor-journal.json, fsynced) before it is broadcast, and after a restart the journalled
 * transaction is broadcast and recorded again rather than a new one built (re-broadcasting a known
 * transaction succeeds on every backend); what is recorded on the ledger is never redone.
 */

const utxoSchema = z
  .object({
    txid: hashSchema,
    vout: z.number().int().min(0).max(0xffffffff),
    /** Satoshis, as a decimal string. */
    value: z.string().regex(/^[1-9]\d{0,15}$/),
    /** The wallet address it pays (default 0: the first sender). */
    addressIndex: z.number().int().min(0).default(0),
  })
  .strict();

export const anchorServiceConfigSchema = z
  .object({
    network: networkSchema,
    /** Keyring key that signs anchor/record and anchor/confirm (admitted with role anchor-operator). */
    operatorKey: z.string().default('anchor'),
    /** Keyring secret holding the BIP32 seed. */
    seedSecret: z.string().default('anchor-seed'),
    account: z.number().int().min(0).max(0x7fffffff).default(0),
    addressCount: z.number().int().min(2).max(1000).default(2),
    /** Integer sat/vB. */
    feeRate: z.number().int().min(1).max(100_000).default(2),
    backend: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('offline'), dir: z.string().min(1) }).strict(),
      z.object({ kind: z.literal('esplora'), baseUrl: z.string().url() }).strict(),
      z.object({ kind: z.literal('bitcoind-rpc'), url: z.string().url(), username: z.string().optional(), password: z.string().optional(), cookieFile: z.string().optional() }).strict(),
    ]),
    /** UTXOs funding the wallet that the backend cannot list (offline), or top-ups. */
    funding: z.array(utxoSchema).default([]),
    pollIntervalMs: z.number().int().min(50).default(5000),
    /** How long to wait for a submitted record or confirmation to commit. */
    commitTimeoutMs: z.number().int().min(1000).default(60_000),
  })
  .strict();

export type AnchorServiceConfig = z.infer<typeof anchorServiceConfigSchema>;
export type AnchorServiceConfigInput = z.input<typeof anchorServiceConfigSchema>;

export const anchorPaths = (home: string) => ({
  config: join(home, 'anchor.json'),
  journal: join(paths(home).data, 'anchor-journal.json'),
  lock: join(paths(home).data, 'anchor-service.pid'),
});

export function loadAnchorServiceConfig(home: string): AnchorServiceConfig | undefined {
  const path = anchorPaths(home).config;
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    throw E.ANCHOR_SERVICE_CONFIG_INVALID(`${path} is not valid JSON`);
  }
  return parseAnchorServiceConfig(raw, path);
}

export function parseAnchorServiceConfig(raw: unknown, where = 'anchor.json'): AnchorServiceConfig {
  const parsed = anchorServiceConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw E.ANCHOR_SERVICE_CONFIG_INVALID(`${where} ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

export function backendFor(config: AnchorServiceConfig, home: string): BitcoinBackend {
  const b = config.backend;
  if (b.kind === 'offline') return new OfflineBackend({ dir: resolve(home, b.dir) });
  if (b.kind === 'esplora') return new EsploraBackend({ baseUrl: b.baseUrl.replace(/\/+$/, '') });
  return new BitcoinCoreRpcBackend({ url: b.url, ...(b.username !== undefined ? { username: b.username } : {}), ...(b.password !== undefined ? { password: b.password } : {}), ...(b.cookieFile !== undefined ? { cookieFile: resolve(home, b.cookieFile) } : {}) });
}

/** The operator's wallet seed: created once (32 random bytes) in the keyring, encrypted like the keys. */
export function ensureWalletSeed(keyring: Keyring, name: string): { created: boolean } {
  if (keyring.hasSecret(name)) return { created: false };
  keyring.addSecret(name, new Uint8Array(randomBytes(32)));
  return { created: true };
}

export function walletFrom(keyring: Keyring, config: AnchorServiceConfig): AnchorWallet {
  const seed = keyring.secret(config.seedSecret);
  try {
    return AnchorWallet.fromSeed({ seed, network: config.network, account: config.account, addressCount: config.addressCount });
  } finally {
    seed.fill(0);
  }
}

// ── journal ──

export interface JournalEntry {
  height: number;
  sequence: number;
  txid: string;
  rawHex: string;
  psbtBase64: string;
  fee: string;
  sender: string;
  receiver: string;
  /** Outpoints spent ("txid:vout"). */
  spent: string[];
  /** Where the backend put it, once broadcast. */
  broadcast?: string[];
  /** The anchor/record transaction, once submitted. */
  recordTx?: string;
}

interface JournalFile {
  version: 1;
  entries: Record<string, JournalEntry>;
}

/** The service's write-ahead log of anchor transactions (one small JSON file, replaced atomically and fsynced). */
export class AnchorJournal {
  private data: JournalFile;
  constructor(readonly path: string) {
    this.data = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as JournalFile) : { version: 1, entries: {} };
  }

  get(height: number): JournalEntry | undefined {
    return this.data.entries[String(height)];
  }

  entries(): JournalEntry[] {
    return Object.values(this.data.entries).sort((a, b) => a.sequence - b.sequence);
  }

  put(entry: JournalEntry): void {
    this.data.entries[String(entry.height)] = entry;
    this.save();
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.data, null, 2) + '\n', { mode: 0o600 });
    const fd = openSync(tmp, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(tmp, this.path);
  }
}

// ── one service per home ──

/** Services of this process per lock file: the file is removed when the last one stops. */
const heldLocks = new Map<string, number>();

/**
 * Claims HOME/data/anchor-service.pid (src/util/pid-lock.ts). Two processes running the service of one
 * home (the node with anchor.json and `gridledger anchor run`, or two `anchor run`) would each keep
 * the journal in memory and overwrite the other's file, and race to broadcast and record; the second
 * is refused with ANCHOR_SERVICE_RUNNING. Services in one process (tests) share the claim. Returns the
 * release function.
 */
export function claimAnchorService(home: string): () => void {
  const path = anchorPaths(home).lock;
  mkdirSync(dirname(path), { recursive: true });
  if (!heldLocks.has(path)) {
    claimPidLock(path, {
      refused: (pid) =>
        E.ANCHOR_SERVICE_RUNNING(pid === null ? `could not claim ${path}` : `the anchor service of ${home} already runs in process ${pid} (stop it first; a node whose home has anchor.json runs it itself)`),
    });
    heldLocks.set(path, 0);
  }
  heldLocks.set(path, heldLocks.get(path)! + 1);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    const left = heldLocks.get(path)! - 1;
    if (left > 0) {
      heldLocks.set(path, left);
      return;
    }
    heldLocks.delete(path);
    releasePidLock(path);
  };
}

// ── the service ──

export interface AnchorServiceOptions {
  /** The node home: anchor.json, the keyring (operator key, wallet seed), data/anchor-journal.json. */
  home: string;
  /** The node's API (the service reads the ledger and submits transactions through it). */
  apiUrl: string;
  logger: Logger;
  /** Something that emits 'block' on each commit (the LedgerNode): a round starts at once instead of at the next poll. */
  blocks?: { on(event: 'block', listener: () => void): unknown; off(event: 'block', listener: () => void): unknown };
  /** Instead of HOME/anchor.json (tests). */
  config?: AnchorServiceConfig;
  /** Instead of the backend the config names (tests). */
  backend?: BitcoinBackend;
  /** Instead of the home's keyring. */
  keyring?: Keyring;
  /** Do not start the timer: rounds run only through `round()` (tests, `anchor run --once`). */
  manual?: boolean;
}

export interface RoundResult {
  recorded: number[];
  confirmed: number[];
}

export interface AnchorService {
  readonly config: AnchorServiceConfig;
  readonly wallet: AnchorWallet;
  readonly backend: BitcoinBackend;
  readonly operator: string;
  readonly journal: AnchorJournal;
  /** Runs one round now (after any round in progress). */
  round(): Promise<RoundResult>;
  stop(): Promise<void>;
}

type Api = <R extends RouteDef>(route: R, input: RouteInput<R>) => Promise<RouteOutput<R>>;

/**
 * Starts the anchor service of a node home, or returns null when the home has no anchor.json (this
 * node does not anchor). Call it after the node's API listens; stop it before the node stops.
 */
export async function startAnchorService(options: AnchorServiceOptions): Promise<AnchorService | null> {
  const config = options.config ?? loadAnchorServiceConfig(options.home);
  if (!config) return null;
  const release = claimAnchorService(options.home);
  let worker: AnchorWorker;
  let wallet: AnchorWallet;
  let backend: BitcoinBackend;
  try {
    const keyring = options.keyring ?? openKeyring(options.home, loadConfig(options.home).keyringBackend);
    wallet = walletFrom(keyring, config);
    backend = options.backend ?? backendFor(config, options.home);
    const api: Api = (route, input) => callRoute(options.apiUrl, route, input);
    // The journal is read after the claim: no other process writes it from here on.
    worker = new AnchorWorker(config, wallet, backend, keyring, new AnchorJournal(anchorPaths(options.home).journal), api, options.logger);
  } catch (err) {
    release();
    throw err;
  }
  let chain: Promise<unknown> = Promise.resolve();
  let queued = false;
  let stopped = false;
  /** After a failed round, blocks do not start rounds until the next poll (no transaction per block while e.g. the role is missing). */
  let failedAt = 0;
  const round = (): Promise<RoundResult> => {
    const next = chain.then(() => worker.round());
    chain = next.catch(() => undefined);
    return next;
  };
  const wake = () => {
    if (stopped || queued) return;
    queued = true;
    void chain.then(() => {
      queued = false;
      if (stopped) return undefined;
      return round().then(
        () => (failedAt = 0),
        (err: unknown) => {
          failedAt = Date.now();
          options.logger.error({ err: describe(err) }, 'anchor round failed');
        },
      );
    });
  };
  const onBlock = () => {
    if (Date.now() - failedAt >= config.pollIntervalMs) wake();
  };
  const timer = options.manual ? undefined : setInterval(wake, config.pollIntervalMs);
  if (!options.manual) options.blocks?.on('block', onBlock);
  options.logger.info({ operator: worker.operator, network: config.network, backend: backend.kind, addresses: wallet.addresses().map((a) => a.address) }, 'anchor service started');
  if (!options.manual) wake();
  return {
    config,
    wallet,
    backend,
    operator: worker.operator,
    journal: worker.journal,
    round,
    stop: async () => {
      stopped = true;
      if (timer) clearInterval(timer);
      options.blocks?.off('block', onBlock);
      await chain;
      release();
    },
  };
}

function describe(err: unknown): string {
  return err instanceof LedgerError ? `${err.code}: ${err.message}` : String((err as Error)?.message ?? err);
}

const outpoint = (u: { txid: string; vout: number }) => `${u.txid}:${u.vout}`;
/** The builder puts the receiver at output 1 (after the OP_RETURN). */
const RECEIVER_OUTPUT = 1;

class AnchorWorker {
  readonly operator: string;

  constructor(
    private readonly config: AnchorServiceConfig,
    private readonly wallet: AnchorWallet,
    private readonly backend: BitcoinBackend,
    private readonly keyring: Keyring,
    readonly journal: AnchorJournal,
    private readonly api: Api,
    private readonly logger: Logger,
  ) {
    this.operator = keyring.show(config.operatorKey).address;
  }

  async round(): Promise<RoundResult> {
    const status = await this.api(anchorRoutes.anchorStatus, {});
    if (status.params.network !== this.config.network) {
      throw E.ANCHOR_NETWORK_MISMATCH(`the ledger anchors on ${status.params.network}, this service is configured for ${this.config.network}`);
    }
    const chainId = (await this.api(coreRoutes.status, {})).chainId;
    const result: RoundResult = { recorded: [], confirmed: [] };
    const pending = await this.api(anchorRoutes.listCheckpoints, { query: { status: 'pending', limit: 100 } });
    for (const checkpoint of pending.checkpoints) {
      await this.anchor(chainId, checkpoint);
      result.recorded.push(checkpoint.height);
    }
    if (this.backend.kind !== 'offline') {
      const recorded = await this.api(anchorRoutes.listCheckpoints, { query: { status: 'recorded', limit: 100 } });
      for (const checkpoint of recorded.checkpoints) if (await this.confirm(checkpoint.height, checkpoint.txid!)) result.confirmed.push(checkpoint.height);
    }
    return result;
  }

  /** Builds (or takes from the journal), broadcasts and records the anchor of one checkpoint. */
  private async anchor(chainId: string, checkpoint: { height: number; blockHash: string; stateRoot: string; intervalRoot: string; digest: string }): Promise<void> {
    // The node's recorded digest must be what this code computes from the recorded values (same rule, same code).
    const computed = checkpointOf(chainId, checkpoint);
    if (checkpointDigest(computed) !== checkpoint.digest) throw E.ANCHOR_CHECKPOINT_MISMATCH(`checkpoint ${checkpoint.height}: the node recorded digest ${checkpoint.digest}, its values give ${checkpointDigest(computed)}`);
    const payload = checkpointPayload(computed);
    let entry = this.journal.get(checkpoint.height);
    if (!entry) entry = await this.build(checkpoint.height, payload);
    const sent = await this.backend.broadcast({ height: entry.height, txid: entry.txid, rawHex: entry.rawHex, psbtBase64: entry.psbtBase64 });
    if (!entry.broadcast) this.journal.put((entry = { ...entry, broadcast: sent.locations }));
    this.logger.info({ height: entry.height, txid: entry.txid, sequence: entry.sequence, where: sent.locations }, 'anchor transaction broadcast');
    const recordTx = await this.submit([{ type: MSG.record, value: { height: entry.height, txid: entry.txid, rawTx: entry.rawHex } }], (hash) => this.journal.put({ ...entry!, recordTx: hash }));
    if (recordTx.code === 'ANCHOR_ALREADY_RECORDED') {
      this.logger.warn({ height: entry.height, message: recordTx.message }, 'checkpoint was already anchored');
      return;
    }
    if (recordTx.code !== 'OK') throw remoteError(recordTx.code, `anchor/record of checkpoint ${entry.height}: ${recordTx.message}`, 400);
    this.logger.info({ height: entry.height, txid: entry.txid }, 'anchor recorded on the ledger');
  }

  private async build(height: number, payload: Uint8Array): Promise<JournalEntry> {
    const sequence = (await this.api(anchorRoutes.anchorStatus, {})).anchors;
    const roles = this.wallet.rolesFor(sequence);
    const utxos = await this.coins(roles.sender);
    const tx = buildAnchorTx({ wallet: this.wallet, sequence, utxos, payload, feeRate: this.config.feeRate });
    const entry: JournalEntry = {
      height,
      sequence,
      txid: tx.txid,
      rawHex: tx.rawHex,
      psbtBase64: tx.psbtBase64,
      fee: tx.fee.toString(),
      sender: tx.sender.address,
      receiver: tx.receiver.address,
      spent: tx.inputs.map(outpoint),
    };
    this.journal.put(entry);
    this.logger.info({ height, txid: tx.txid, sequence, fee: Number(tx.fee), vsize: tx.vsize, from: tx.sender.address, to: tx.receiver.address }, 'anchor transaction built');
    return entry;
  }

  /**
   * What the sender can spend: the previous anchor's output to it (known without asking anyone, so
   * offline and unconfirmed chains work), configured funding of that address, and — online — the
   * UTXOs the backend lists; minus everything an anchor transaction already spent.
   */
  private async coins(sender: AnchorAddress): Promise<AnchorUtxo[]> {
    const recent = await this.api(anchorRoutes.listAnchors, { query: { order: 'desc', limit: 50 } });
    const txs = [...recent.anchors.map((a) => a.rawTx), ...this.journal.entries().map((e) => e.rawHex)].map((raw) => parseBitcoinTx(raw));
    const spent = new Set(txs.flatMap((t) => t.inputs.map(outpoint)));
    const found = new Map<string, AnchorUtxo>();
    const add = (u: AnchorUtxo) => {
      if (!spent.has(outpoint(u))) found.set(outpoint(u), u);
    };
    for (const t of txs) {
      const out = t.outputs[RECEIVER_OUTPUT];
      if (out && out.scriptHex === sender.scriptPubKey) add({ txid: t.txid, vout: RECEIVER_OUTPUT, value: out.value });
    }
    for (const f of this.config.funding) if (f.addressIndex === sender.index) add({ txid: f.txid, vout: f.vout, value: BigInt(f.value) });
    if (this.backend.kind !== 'offline') for (const u of await this.backend.listUnspent(sender.address)) add({ txid: u.txid, vout: u.vout, value: u.value });
    return [...found.values()];
  }

  private async confirm(height: number, txid: string): Promise<boolean> {
    const inclusion = await this.backend.getInclusion(txid);
    if (!inclusion) return false;
    const result = await this.submit([
      { type: MSG.confirm, value: { height, blockHeader: inclusion.blockHeader, blockHash: inclusion.blockHash, blockHeight: inclusion.blockHeight, branch: inclusion.branch } },
    ]);
    if (result.code !== 'OK' && result.code !== 'ANCHOR_ALREADY_CONFIRMED') throw remoteError(result.code, `anchor/confirm of checkpoint ${height}: ${result.message}`, 400);
    this.logger.info({ height, txid, block: inclusion.blockHash, blockHeight: inclusion.blockHeight }, 'anchor confirmed on the ledger');
    return result.code === 'OK';
  }

  /** Signs with the operator key, submits and waits for the commit; returns the committed result. */
  private async submit(msgs: Msg[], submitted?: (hash: string) => void): Promise<{ code: string; message: string }> {
    const nonce = await this.api(coreRoutes.accountNonce, { params: { address: this.operator } });
    const status = await this.api(coreRoutes.status, {});
    const tx = signTx({ chainId: status.chainId, sender: this.operator, nonce: nonce.next, expiresAtHeight: status.height + 100, msgs, memo: 'anchor service' }, this.keyring.signer(this.config.operatorKey));
    const { hash } = await this.api(coreRoutes.submitTx, { body: tx });
    submitted?.(hash);
    const deadline = Date.now() + this.config.commitTimeoutMs;
    while (Date.now() < deadline) {
      const res = await this.api(coreRoutes.getTx, { params: { hash }, query: { wait: Math.min(30, Math.max(1, Math.ceil((deadline - Date.now()) / 1000))) } });
      if (res.status === 'committed' && res.result) return res.result;
    }
    throw remoteError('TX_NOT_COMMITTED', `transaction ${hash} was not committed within ${this.config.commitTimeoutMs} ms`, 408);
  }
}
