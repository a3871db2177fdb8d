import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildServer, type BoundRoute } from '../api/server.js';
import { coreRoutes } from '../api/routes.js';
import { txHash } from '../codec/tx.js';
import { EVIDENCE_PREFIX } from '../app/host.js';
import type { TxResult } from '../codec/block.js';
import { LedgerError } from '../util/errors.js';
import { ensureDirs, loadConfig, loadGenesis, openKeyring, paths } from '../home/home.js';
import { MODULE_CORES, MODULES } from '../modules/index.js';
import { LedgerNode, type BlockEvent, type TxResultEvent } from '../ledger/ledger.js';
import { ConsensusDriver } from './driver.js';
import { NodeNetwork } from './network.js';

export const VERSION = '0.1.0';

export interface RunningNode {
  node: LedgerNode;
  server: FastifyInstance;
  driver: ConsensusDriver;
  network: NodeNetwork | null;
  url: string;
  logger: Logger;
  stop(): Promise<void>;
}

export interface StartOptions {
  apiHost?: string;
  apiPort?: number;
  logger?: Logger;
  /** What to do when consensus halts on a durability failure; default: exit the process (code 70). */
  onFatal?: (err: Error) => void;
}

/** Refuses to open a home that another live process is serving (two writers would fork the data). */
function claimPidFile(path: string): void {
  if (existsSync(path)) {
    const pid = Number(readFileSync(path, 'utf8').trim());
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid)) {
      throw new LedgerError('HOME_IN_USE', `another node (pid ${pid}) is running on this home`);
    }
  }
  writeFileSync(path, `${process.pid}\n`);
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function blockEnvelope(node: LedgerNode, height: number) {
  const stored = node.storage.getBlock(height);
  if (!stored) throw new LedgerError('BLOCK_NOT_FOUND', `no block at height ${height} (latest is ${node.height})`, 404);
  const results: TxResult[] = stored.block.txs.map((tx) => node.storage.getTx(txHash(tx.body))!.result);
  return { hash: stored.hash, block: stored.block as unknown as Record<string, unknown>, commit: stored.commit as unknown as Record<string, unknown>, results };
}

interface LiveParts {
  driver?: ConsensusDriver;
  network?: NodeNetwork | null;
}

function coreHandlers(node: LedgerNode, live: LiveParts): BoundRoute[] {
  const submitOne = (body: unknown) => ({ hash: node.submitTx(body), admission: { code: 'OK' as const } });
  return [
    { route: coreRoutes.submitTx, handler: ({ body }) => submitOne(body) },
    {
      route: coreRoutes.submitTxBatch,
      handler: async ({ body }) => ({
        results: (await node.submitTxs(body.txs as unknown[])).map((r) => ('hash' in r ? { hash: r.hash, code: 'OK', message: '' } : { hash: null, code: r.error.code, message: r.error.message })),
      }),
    },
    {
      route: coreRoutes.getTx,
      handler: async ({ params, query }) => {
        const stored = node.storage.getTx(params.hash);
        if (stored) return { hash: params.hash, status: 'committed', height: stored.height, index: stored.index, result: stored.result };
        if (query.wait > 0) {
          const e = await node.waitForTx(params.hash, query.wait * 1000);
          if (e) return { hash: params.hash, status: 'committed', height: e.height, index: e.index, result: e.result };
        }
        if (node.mempool.has(params.hash)) return { hash: params.hash, status: 'pending' };
        throw new LedgerError('TX_NOT_FOUND', `transaction ${params.hash} is neither pending nor committed`, 404);
      },
    },
    {
      route: coreRoutes.accountNonce,
      handler: ({ params }) => {
        const committed = node.app.nonceOf(params.address);
        return { address: params.address, committed, next: node.mempool.nextPendingNonce(params.address, committed), height: node.height };
      },
    },
    {
      route: coreRoutes.latestBlock,
      handler: () => {
        if (node.height === 0) throw new LedgerError('BLOCK_NOT_FOUND', 'no block committed yet', 404);
        return blockEnvelope(node, node.height);
      },
    },
    { route: coreRoutes.getBlock, handler: ({ params }) => blockEnvelope(node, params.height) },
    {
      route: coreRoutes.status,
      handler: () => ({
        chainId: node.chainId,
        height: node.height,
        latestBlockHash: node.storage.getBlock(node.height)?.hash ?? '',
        latestBlockTime: node.latestBlockTime,
        stateRoot: node.app.stateRoot,
        validator: { address: node.validatorAddress },
        mempool: { txs: node.mempool.size, bytes: node.mempool.bytes },
        consensus: consensusStatus(live),
        peers: (live.network?.p2p.peers() ?? []).map((p) => ({ id: p.id, address: p.address, direction: p.direction, connectedSince: p.connectedSince })),
        sync: live.network ? { bestPeerHeight: live.network.sync.bestPeerHeight, syncing: live.network.sync.syncing } : null,
        messageTypes: node.app.messageTypes(),
      }),
    },
    {
      route: coreRoutes.evidence,
      handler: ({ query }) => ({
        evidence: node.app.committed().scan<{ height: number; evidence: Record<string, unknown> }>(EVIDENCE_PREFIX, { reverse: true, limit: query.limit }).map(([, e]) => e),
      }),
    },
    { route: coreRoutes.health, handler: () => ({ ok: true, height: node.height }) },
  ];
}

function consensusStatus(live: LiveParts) {
  const s = live.driver?.status();
  return s && live.driver ? { height: s.height, round: s.round, step: s.step, lastCommitTime: live.driver.lastCommitAt } : null;
}

/** Each module's query routes, answered from committed state through the module's read-only context. */
function moduleHandlers(node: LedgerNode): BoundRoute[] {
  return MODULES.flatMap((m) =>
    (m.surface.routes ?? []).map((r) => ({
      route: r.route,
      handler: (input) => {
        const ctx = node.app.queryContext(m.core.name, { height: node.height, time: node.latestBlockTime });
        return r.handle({ ...ctx, nonceOf: (address: string) => node.app.nonceOf(address) }, input as never);
      },
    })),
  );
}

/** Server-sent events: `GET /v1/events?topics=blocks,txs` streams new blocks and transaction results. */
function registerEvents(app: FastifyInstance, node: LedgerNode): void {
  const open = new Set<{ end(): void }>();
  app.addHook('onClose', async () => {
    for (const res of open) res.end();
  });
  app.get('/v1/events', (request, reply) => {
    const topics = new Set(String((request.query as { topics?: string }).topics ?? 'blocks,txs').split(','));
    reply.hijack();
    const res = reply.raw;
    open.add(res);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.write(`: connected at height ${node.height}\n\n`);
    const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const onBlock = (e: BlockEvent) => send('block', e);
    const onTx = (e: TxResultEvent) => send('tx', e);
    if (topics.has('blocks')) node.on('block', onBlock);
    if (topics.has('txs')) node.on('txResult', onTx);
    const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    request.raw.on('close', () => {
      open.delete(res);
      clearInterval(heartbeat);
      node.off('block', onBlock);
      node.off('txResult', onTx);
    });
  });
}

const RAW_PATHS: Record<string, Record<string, unknown>> = {
  '/v1/events': {
    get: {
      operationId: 'events',
      summary: 'Server-sent events: `block` (height, hash, time, txs, stateRoot, proposer) and `tx` (hash, height, index, result) as they commit',
      tags: ['events'],
      parameters: [{ name: 'topics', in: 'query', required: false, schema: { type: 'string', example: 'blocks,txs' } }],
      responses: { '200': { description: 'event stream', content: { 'text/event-stream': { schema: { type: 'string' } } } } },
    },
  },
  '/metrics': {
    get: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['node'], responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  },
};

export async function startNode(home: string, options: StartOptions = {}): Promise<RunningNode> {
  const config = loadConfig(home);
  const genesis = loadGenesis(home);
  const logger = options.logger ?? pino({ level: config.logLevel, base: { node: config.moniker } }, pino.destination(2));
  const keyring = openKeyring(home, config.keyringBackend);
  const validatorSigner = keyring.has('validator') ? keyring.signer('validator') : null;
  const nodeKey = keyring.signer('node');
  ensureDirs(home);
  claimPidFile(paths(home).pid);
  const node = new LedgerNode({ config, genesis, dbPath: paths(home).db, validatorSigner, modules: MODULE_CORES, logger });
  const live: LiveParts = {};
  const server = buildServer([...coreHandlers(node, live), ...moduleHandlers(node)], {
    logger,
    bodyLimitBytes: config.api.bodyLimitBytes,
    rateLimitPerSecond: config.api.rateLimitPerSecond,
    version: VERSION,
    rawPaths: RAW_PATHS,
    onRequestDone: (route, status) => node.metrics.httpRequests.inc({ route, status: String(status) }),
    extend: (app) => {
      registerEvents(app, node);
      app.get('/metrics', async (_req, reply) => reply.type(node.metrics.registry.contentType).send(await node.metrics.registry.metrics()));
    },
  });
  const host = options.apiHost ?? config.api.host;
  const port = options.apiPort ?? config.api.port;
  await server.listen({ host, port });
  const address = server.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`;
  const t = config.consensus.timeouts;
  const driver = new ConsensusDriver({
    node,
    walPath: paths(home).wal,
    signer: validatorSigner,
    logger,
    metrics: node.metrics,
    timing: config.consensus,
    onFatal: options.onFatal ?? (() => process.exit(70)),
    timeouts: {
      propose: { baseMs: t.proposeMs, deltaMs: t.deltaMs },
      prevote: { baseMs: t.prevoteMs, deltaMs: t.deltaMs },
      precommit: { baseMs: t.precommitMs, deltaMs: t.deltaMs },
    },
  });
  const network = config.p2p.persistentPeers.length > 0 || node.options.genesis.validators.length > 1 ? new NodeNetwork(node, driver, config, nodeKey, logger) : null;
  if (network) {
    driver.setNetwork(network);
    await network.start();
  }
  live.driver = driver;
  live.network = network;
  driver.start();
  logger.info({ url, height: node.height, chainId: node.chainId }, 'node started');
  let stopped = false;
  return {
    node,
    server,
    driver,
    network,
    url,
    logger,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      driver.stop();
      await network?.stop();
      await server.close();
      node.close();
      rmSync(paths(home).pid, { force: true });
    },
  };
}
