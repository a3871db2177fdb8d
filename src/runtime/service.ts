import { lookupOver } from './read-policy.js';
import { kpiHandlers } from './community-kpis.js';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { buildServer } from '../api/server.js';
import { blockJson, type Block } from '../codec/block.js';
import { ensureDirs, HOME_ERRORS, loadConfig, loadGenesis, openKeyring, paths } from '../home/home.js';
import { LedgerNode } from '../ledger/ledger.js';
import { LedgerError } from '../util/errors.js';
import { claimPidLock } from '../util/pid-lock.js';
import { MODULE_CORES } from '../modules/index.js';
import { coreHandlers, moduleHandlers, RAW_PATHS, type LiveParts } from './api-handlers.js';
import { DEFAULT_EVENT_LIMITS, registerEvents } from './events.js';
import { transactionDocs } from './openapi-docs.js';
import { ConsensusDriver, realTimers, type Timers } from './driver.js';
import { NodeNetwork } from './network.js';
import { registerMemoryMetrics } from './memory-metrics.js';
import { MessagingNode } from '../messaging/index.js';
import { messagingHandlers } from './messaging-handlers.js';
import { registerMessagingMetrics } from './messaging-metrics.js';
import { FileWal } from './wal-file.js';
import { startAnchorService, type AnchorService } from './anchor-service.js';
import { nodeAuth } from './auth.js';
import { registerWeb } from './web.js';

export const VERSION = '0.1.0';

export interface RunningNode {
  node: LedgerNode;
  server: FastifyInstance;
  driver: ConsensusDriver<Block>;
  network: NodeNetwork | null;
  /** Encrypted messages (off the ledger): served by the API, relayed when the node has peers. */
  messaging: MessagingNode;
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
  /** Run the anchor service when the home is configured for it (default true; tests that drive the service themselves turn it off). */
  anchorService?: boolean;
  /** Check every API answer against its route's response schema (default: on under a test runner, GRIDLEDGER_VALIDATE_RESPONSES=1). */
  validateResponses?: boolean;
  /** The consensus clock and timers (default: the wall clock). Tests run a node on a clock they move forward, e.g. across the end of a day. */
  timers?: Timers;
}

/**
 * The node's own anchor service, unless `gridledger anchor run` already serves this home: then the
 * node runs without it (one service per wallet and journal) and says so, rather than failing to start.
 */
async function startAnchorServiceUnlessRunning(home: string, apiUrl: string, logger: Logger, node: LedgerNode): Promise<AnchorService | null> {
  try {
    return await startAnchorService({ home, apiUrl, logger: logger.child({ service: 'anchor' }), blocks: node });
  } catch (err) {
    if (!(err instanceof LedgerError && err.code === 'ANCHOR_SERVICE_RUNNING')) throw err;
    logger.warn({ reason: err.message }, 'anchor service not started: it already runs for this home');
    return null;
  }
}

export async function startNode(home: string, options: StartOptions = {}): Promise<RunningNode> {
  const config = loadConfig(home);
  const genesis = loadGenesis(home);
  const logger = options.logger ?? pino({ level: config.logLevel, base: { node: config.moniker } }, pino.destination(2));
  const keyring = openKeyring(home, config.keyringBackend);
  const validatorSigner = keyring.has('validator') ? keyring.signer('validator') : null;
  const nodeKey = keyring.signer('node');
  ensureDirs(home);
  // One node per home: two would sign with one validator key (src/util/pid-lock.ts).
  const releaseHome = claimPidLock(paths(home).pid, { refused: (pid) => HOME_ERRORS.HOME_IN_USE(pid === null ? `could not claim ${paths(home).pid}` : `another node (pid ${pid}) is running on this home`) });
  const node = new LedgerNode({ config, genesis, dbPath: paths(home).db, validatorSigner, modules: MODULE_CORES, logger });
  const live: LiveParts = {};
  const { host: _host, port: _port, maxEventStreams, maxEventStreamsPerClient, maxEventBufferedBytes, eventReplayHeights, ...limits } = config.api;
  const eventLimits = { ...DEFAULT_EVENT_LIMITS, maxEventStreams, maxEventStreamsPerClient, maxEventBufferedBytes, eventReplayHeights };
  const messaging = new MessagingNode();
  const queries = [...coreHandlers(node, live), ...moduleHandlers(node)];
  // Community KPIs are computed from the node's own energy queries (the read policy guards the route itself).
  const routes = [...queries, ...kpiHandlers(lookupOver(queries)), ...messagingHandlers(messaging, () => live.network?.messaging ?? null)];
  const auth = nodeAuth(home, node.chainId, routes);
  const server = buildServer([...routes, ...auth.handlers], {
    logger,
    ...limits,
    version: VERSION,
    validateResponses: options.validateResponses ?? (process.env.GRIDLEDGER_VALIDATE_RESPONSES === '1' || process.env.VITEST !== undefined),
    rawPaths: RAW_PATHS,
    openApi: () => transactionDocs(config.chainId, MODULE_CORES),
    authorize: auth.authorize,
    onRequestDone: (route, status) => node.metrics.httpRequests.inc({ route, status: String(status) }),
    extend: (app) => {
      registerEvents(app, node, eventLimits);
      registerWeb(app);
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
  const m = node.metrics;
  const driver = new ConsensusDriver<Block>({
    ledger: node,
    wal: new FileWal<Block>(paths(home).wal, blockJson),
    timers: options.timers ?? realTimers,
    sign: validatorSigner ? (bytes) => validatorSigner.sign(bytes) : null,
    timing: config.consensus,
    synchrony: config.consensus.synchrony,
    phases: m.phases,
    observer: {
      voteSent: (type) => m.votesSent.inc({ type }),
      voteReceived: (accepted) => m.votesReceived.inc({ outcome: accepted ? 'accepted' : 'ignored' }),
      timeout: (step) => m.timeouts.inc({ step }),
      decided: (_height, round) => m.rounds.observe(round),
      evidence: () => m.evidence.inc(),
      warn: (message) => logger.warn(message),
      fatal: (message) => logger.fatal(message),
    },
    onFatal: options.onFatal ?? (() => process.exit(70)),
    timeouts: {
      propose: { baseMs: t.proposeMs, deltaMs: t.deltaMs },
      prevote: { baseMs: t.prevoteMs, deltaMs: t.deltaMs },
      precommit: { baseMs: t.precommitMs, deltaMs: t.deltaMs },
    },
  });
  const network = config.p2p.persistentPeers.length > 0 || node.options.genesis.validators.length > 1 ? new NodeNetwork(node, driver, config, nodeKey, logger, messaging) : null;
  if (network) {
    driver.setNetwork(network.consensus);
    await network.start();
  }
  live.driver = driver;
  live.network = network;
  registerMessagingMetrics(node.metrics.registry, messaging, () => network?.messaging ?? null);
  registerMemoryMetrics(node, () => network?.p2p.peers() ?? []);
  // Enough admitted transactions may start the next height before the block time (ADR 0015).
  node.on('txAdmitted', () => driver.onTxsAdmitted());
  driver.start();
  // Only a home with anchor.json (the consortium's anchor operator) anchors checkpoints into Bitcoin.
  const anchor = options.anchorService === false ? null : await startAnchorServiceUnlessRunning(home, url, logger, node);
  logger.info({ url, height: node.height, chainId: node.chainId }, 'node started');
  let stopped = false;
  return {
    node,
    server,
    driver,
    network,
    messaging,
    url,
    logger,
    stop: async () => {
      if (stopped) return;
      stopped = true;
      driver.stop();
      await anchor?.stop();
      await network?.stop();
      await server.close();
      node.close();
      releaseHome();
    },
  };
}
