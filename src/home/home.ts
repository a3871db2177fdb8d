import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import type { Genesis } from '../app/module.js';
import { Keyring, type KeyringBackend, type PassphrasePurpose } from '../crypto/keyring.js';
import { defineErrors } from '../util/errors.js';

export const HOME_ERRORS = defineErrors('home', {
  HOME_NOT_INITIALISED: { meaning: 'the node home has no config or genesis yet (run npx gridledger init)' },
  HOME_DAMAGED: { meaning: 'a file of the node home is not valid JSON' },
  HOME_EXISTS: { meaning: 'the node home is already initialised' },
  HOME_IN_USE: { meaning: 'another live process serves this node home' },
  CONFIG_INVALID: { meaning: 'config.json is not valid (or names another chain than genesis.json)' },
  KEYRING_PASSPHRASE_REQUIRED: { meaning: 'the encrypted keyring needs GRIDLEDGER_PASSPHRASE or a terminal to ask on' },
  KEYRING_PASSPHRASE_MISMATCH: { meaning: 'the two passphrases typed for a new keyring differ' },
});

/** A node home: config.json, genesis.json, keyring/ and data/. */

/**
 * Early starts (ADR 0015): a height starts before the block time once this many transactions wait,
 * at most every 100 ms. Measured (BENCHMARKS.md, issue 18): 50 ms gave the lowest latency but cost
 * one validator ~25 % of its throughput (small blocks pay the state tree's upper levels and the
 * commit per block); 250 ms kept the throughput but put four validators' p50 above 300 ms.
 */
export const DEFAULT_PROPOSE_AT_TXS = 64;
export const DEFAULT_MIN_BLOCK_INTERVAL_MS = 100;
export const DEFAULT_MAX_TX_WAIT_MS = 250;

/** MiB of the state tree's row cache unless the config says otherwise (the storage's own default, ADR 0030). */
export const DEFAULT_TREE_CACHE_MIB = 192;

export const configSchema = z
  .object({
    chainId: z.string().min(1).max(64),
    moniker: z.string().min(1).max(64),
    keyringBackend: z.enum(['file', 'test']),
    api: z.object({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65535).default(26657),
      /** requests per second per client IP; a batch counts one per transaction */
      rateLimitPerSecond: z.number().int().min(1).default(2000),
      /** the most any route accepts (the batch route; one-transaction routes accept 256 KiB) */
      bodyLimitBytes: z.number().int().min(1024).default(8 * 1024 * 1024),
      /** a request (headers and body) must arrive within this time, else 408 REQUEST_TIMEOUT */
      requestTimeoutMs: z.number().int().min(100).default(30_000),
      /** the request headers must arrive within this time (at most requestTimeoutMs) */
      headersTimeoutMs: z.number().int().min(100).default(10_000),
      /** idle time of a kept-alive connection between requests */
      keepAliveTimeoutMs: z.number().int().min(100).default(5_000),
      /** a connection without any traffic for this long is closed (above the 60 s longest wait of GET /v1/txs/:hash) */
      connectionTimeoutMs: z.number().int().min(1000).default(75_000),
      /** open connections in total; more are refused with 503 CONNECTIONS_EXHAUSTED */
      maxConnections: z.number().int().min(1).default(1024),
      /** open connections per client IP; more are refused with 429 CONNECTIONS_PER_CLIENT_EXCEEDED */
      maxConnectionsPerClient: z.number().int().min(1).default(64),
      /** bytes reserved by request bodies being received at once; beyond, 503 BODY_BUDGET_EXHAUSTED */
      maxInFlightBodyBytes: z.number().int().min(64 * 1024).default(64 * 1024 * 1024),
      /** open event streams (GET /v1/events) in total; more get 503 EVENTS_STREAMS_FULL */
      maxEventStreams: z.number().int().min(1).default(256),
      /** open event streams per client IP; more get 429 EVENTS_TOO_MANY_STREAMS */
      maxEventStreamsPerClient: z.number().int().min(1).default(16),
      /** a stream whose reader leaves more than this many bytes unsent is closed (it may resume with Last-Event-ID) */
      maxEventBufferedBytes: z.number().int().min(64 * 1024).default(1024 * 1024),
      /** heights a reconnecting stream may replay after its Last-Event-ID */
      eventReplayHeights: z.number().int().min(0).default(1000),
    }),
    p2p: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(26656),
        /** Peers dialled and kept connected: node id (address of the node key), host, port. */
        persistentPeers: z.array(z.object({ id: z.string(), host: z.string(), port: z.number().int() }).strict()).default([]),
        /** Further node ids allowed to connect (e.g. full nodes of consortium members). */
        allowedPeers: z.array(z.string()).default([]),
      })
      .default({ host: '127.0.0.1', port: 26656, persistentPeers: [], allowedPeers: [] }),
    consensus: z
      .object({
        blockTimeMs: z.number().int().min(10).default(1000),
        emptyBlockIntervalMs: z.number().int().min(100).default(30_000),
        /** Includable transactions waiting that start the next height before `blockTimeMs` (ADR 0015). */
        proposeAtTxs: z.number().int().min(1).default(DEFAULT_PROPOSE_AT_TXS),
        /** The least time between two heights' starts when they start early. */
        minBlockIntervalMs: z.number().int().min(10).default(DEFAULT_MIN_BLOCK_INTERVAL_MS),
        /** The longest a waiting transaction delays the next height's start when fewer than `proposeAtTxs` wait (ADR 0022). */
        maxTxWaitMs: z.number().int().min(10).default(DEFAULT_MAX_TX_WAIT_MS),
        maxBlockTxs: z.number().int().min(1).default(10_000),
        /** Must stay well below the P2P frame limit (8 MiB) since a proposal carries its block. */
        maxBlockBytes: z.number().int().min(64 * 1024).max(6 * 1024 * 1024).default(4 * 1024 * 1024),
        /** With several validators: execution time a proposer aims to spend on one block (it sizes
         *  blocks by measured cost so the proposal arrives well before the propose timeout). */
        buildBudgetMs: z.number().int().min(10).default(500),
        /**
         * Prepare this node's own proposals with the state tree on a worker thread (ADR 0024): the
         * main thread serves admissions meanwhile. Worth it for a lone validator with cores to spare;
         * on two shared cores it gained 5 % tx/s for ~50 ms more half-load latency and ~150 MiB more RSS.
         */
        stateTreeWorker: z.boolean().default(false),
        /** Proposer-based block time: clock precision between validators and the proposal message delay (round 0). */
        synchrony: z
          .object({ precisionMs: z.number().int().min(0).max(60_000).default(500), messageDelayMs: z.number().int().min(1).max(600_000).default(2000) })
          .default({ precisionMs: 500, messageDelayMs: 2000 }),
        timeouts: z
          .object({
            proposeMs: z.number().int().min(10).default(1000),
            prevoteMs: z.number().int().min(10).default(500),
            precommitMs: z.number().int().min(10).default(500),
            /** added per round, so a slow network catches up */
            deltaMs: z.number().int().min(0).default(500),
          })
          .default({ proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 500 }),
      })
      .default({ blockTimeMs: 1000, emptyBlockIntervalMs: 30_000, proposeAtTxs: DEFAULT_PROPOSE_AT_TXS, minBlockIntervalMs: DEFAULT_MIN_BLOCK_INTERVAL_MS, maxTxWaitMs: DEFAULT_MAX_TX_WAIT_MS, maxBlockTxs: 10_000, maxBlockBytes: 4 * 1024 * 1024, buildBudgetMs: 500, stateTreeWorker: false, synchrony: { precisionMs: 500, messageDelayMs: 2000 }, timeouts: { proposeMs: 1000, prevoteMs: 500, precommitMs: 500, deltaMs: 500 } }),
    mempool: z
      .object({
        maxTxs: z.number().int().min(1).default(50_000),
        maxBytes: z.number().int().min(64 * 1024).default(256 * 1024 * 1024),
        nonceWindow: z.number().int().min(1).max(1_000_000).default(1_000),
      })
      .default({ maxTxs: 50_000, maxBytes: 256 * 1024 * 1024, nonceWindow: 1_000 }),
    /** Node-local storage, not consensus: memory for the state tree's row cache (ADR 0030). */
    storage: z
      .object({
        /** A large state's tree update reads its rows from here instead of SQLite; filled only as the tree grows. */
        treeCacheMiB: z.number().int().min(1).max(65_536).default(DEFAULT_TREE_CACHE_MIB),
      })
      .strict()
      .default({ treeCacheMiB: DEFAULT_TREE_CACHE_MIB }),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  })
  .strict();

export type NodeConfig = z.infer<typeof configSchema>;

export const paths = (home: string) => ({
  config: join(home, 'config.json'),
  genesis: join(home, 'genesis.json'),
  keyring: join(home, 'keyring'),
  data: join(home, 'data'),
  db: join(home, 'data', 'ledger.db'),
  pid: join(home, 'data', 'node.pid'),
  wal: join(home, 'data', 'consensus.wal'),
});

/**
 * Passphrase from GRIDLEDGER_PASSPHRASE, else asked on the terminal without echo — twice for the
 * first key of a new keyring, so a typo cannot lock the keys away. The keyring checks it against
 * an existing key before it writes another, and refuses an empty one.
 */
export function passphraseProvider(): (purpose: PassphrasePurpose) => string {
  let cached: string | undefined;
  return (purpose) => {
    if (cached !== undefined) return cached;
    const fromEnv = process.env.GRIDLEDGER_PASSPHRASE;
    if (fromEnv !== undefined && fromEnv.length > 0) return (cached = fromEnv);
    const typed = promptOnTty(purpose === 'new' ? 'New keyring passphrase: ' : 'Keyring passphrase: ');
    if (purpose === 'new' && typed.length > 0 && promptOnTty('Repeat the passphrase: ') !== typed) {
      throw HOME_ERRORS.KEYRING_PASSPHRASE_MISMATCH('the two passphrases differ; nothing was written');
    }
    cached = typed;
    return cached;
  };
}

function promptOnTty(prompt: string): string {
  let fd: number;
  try {
    fd = openSync('/dev/tty', 'r+');
  } catch {
    throw HOME_ERRORS.KEYRING_PASSPHRASE_REQUIRED('set GRIDLEDGER_PASSPHRASE or run on a terminal to enter the keyring passphrase');
  }
  try {
    writeSync(fd, prompt);
    execFileSync('stty', ['-echo'], { stdio: [fd, 'ignore', 'ignore'] });
    const chunks: number[] = [];
    const buf = Buffer.alloc(1);
    while (readSync(fd, buf, 0, 1, null) === 1 && buf[0] !== 10) chunks.push(buf[0]!);
    writeSync(fd, '\n');
    return Buffer.from(chunks).toString('utf8').replace(/\r$/, '');
  } finally {
    try {
      execFileSync('stty', ['echo'], { stdio: [fd, 'ignore', 'ignore'] });
    } catch {
      /* terminal gone */
    }
    closeSync(fd);
  }
}

export function readJsonFile<T>(path: string, what: string): T {
  if (!existsSync(path)) throw HOME_ERRORS.HOME_NOT_INITIALISED(`${what} not found at ${path}; create the home first: npx gridledger init --home ${dirname(path)} (in the project folder)`);
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    throw HOME_ERRORS.HOME_DAMAGED(`${what} at ${path} is not valid JSON`);
  }
}

export function loadConfig(home: string): NodeConfig {
  const parsed = configSchema.safeParse(readJsonFile(paths(home).config, 'config'));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw HOME_ERRORS.CONFIG_INVALID(`config.json ${issue?.path.join('.')}: ${issue?.message}`);
  }
  return parsed.data;
}

export function loadGenesis(home: string): Genesis {
  return readJsonFile<Genesis>(paths(home).genesis, 'genesis');
}

export function openKeyring(home: string, backend: KeyringBackend): Keyring {
  return new Keyring(paths(home).keyring, backend, passphraseProvider());
}

export function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
}

export function resolveHome(home: string | undefined): string {
  return resolve(home ?? process.env.GRIDLEDGER_HOME ?? join(process.env.HOME ?? '.', '.gridledger'));
}

export function ensureDirs(home: string): void {
  mkdirSync(paths(home).data, { recursive: true, mode: 0o700 });
}
