import { coreRoutes } from '../api/routes.js';
import type { BoundRoute } from '../api/server.js';
import { EVIDENCE_PREFIX } from '../app/host.js';
import { BLOCK_ERRORS, TX_ERRORS } from '../app/admission.js';
import { withNonceOf } from '../app/kernel.js';
import type { Block, TxResult } from '../codec/block.js';
import { txHash } from '../codec/tx.js';
import type { LedgerNode } from '../ledger/ledger.js';
import { MODULES } from '../modules/index.js';
import { ReadOnlyStore } from '../app/state.js';
import { PROOF_ERRORS, RecordingReader } from '../app/state-proof.js';
import type { QueryContext } from '../surface/index.js';
import { lightRoutes, provableRoute, splitProve, type ProvenAnswer, type SignedHeaderJson } from '../surface/prove.js';
import type { ConsensusDriver } from './driver.js';
import { EVENTS_OPENAPI } from './events.js';
import type { NodeNetwork } from './network.js';

/**
 * The node's HTTP handlers: core routes (transactions, blocks, accounts' nonces, status, evidence),
 * every module's query routes (answered from committed state through the module's read-only
 * context), and the server-sent event stream.
 */

function blockEnvelope(node: LedgerNode, height: number) {
  const stored = node.storage.getBlock(height);
  if (!stored) throw BLOCK_ERRORS.BLOCK_NOT_FOUND(`no block at height ${height} (latest is ${node.height})`);
  const results: TxResult[] = stored.block.txs.map((tx) => node.storage.getTx(txHash(tx.body))!.result);
  return { hash: stored.hash, block: stored.block as unknown as Record<string, unknown>, commit: stored.commit as unknown as Record<string, unknown>, results };
}

export interface LiveParts {
  driver?: ConsensusDriver<Block>;
  network?: NodeNetwork | null;
}

export function coreHandlers(node: LedgerNode, live: LiveParts): BoundRoute[] {
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
        throw TX_ERRORS.TX_NOT_FOUND(`transaction ${params.hash} is neither pending nor committed`);
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
        if (node.height === 0) throw BLOCK_ERRORS.BLOCK_NOT_FOUND('no block committed yet');
        return blockEnvelope(node, node.height);
      },
    },
    { route: coreRoutes.getBlock, handler: ({ params }) => blockEnvelope(node, params.height) },
    {
      route: coreRoutes.status,
      handler: () => ({
        chainId: node.chainId,
        height: node.height,
        latestBlockHash: node.storage.blockInfo(node.height)?.hash ?? '',
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
    {
      route: coreRoutes.modules,
      handler: () => {
        const state = node.app.committed();
        return { modules: node.app.kernel.describe(state, node.height), scheduled: node.app.kernel.scheduledUpgrades(state) };
      },
    },
    { route: coreRoutes.health, handler: () => ({ ok: true, height: node.height }) },
    ...lightHandlers(node),
  ];
}

function consensusStatus(live: LiveParts) {
  const s = live.driver?.status();
  return s && live.driver ? { height: s.height, round: s.round, step: s.step, lastCommitTime: live.driver.lastCommitAt } : null;
}

/**
 * Each module's query routes, answered from committed state through the module's read-only context.
 * With `?prove=true` the handler runs over a recording store and the answer carries a proof of
 * exactly what it read, against the header and commit of the height it read (ADR 0012).
 */
export function moduleHandlers(node: LedgerNode): BoundRoute[] {
  return MODULES.flatMap((m) =>
    (m.surface.routes ?? []).map((r) => ({
      route: provableRoute(r.route),
      handler: (input) => {
        const split = splitProve(input.query);
        const plain = { ...input, query: split.query } as never;
        if (!split.prove) {
          const ctx = node.app.queryContext(m.core.name, { height: node.height, time: node.latestBlockTime });
          return r.handle(withNonceOf(ctx, (address: string) => node.app.nonceOf(address)), plain);
        }
        return provenAnswer(node, m.core.name, (ctx) => r.handle(ctx, plain));
      },
    })),
  );
}

/** Runs a query over a recording store and proves its reads; retried if a block commits while an async handler waits. */
async function provenAnswer(node: LedgerNode, module: string, handle: (ctx: QueryContext) => unknown): Promise<ProvenAnswer> {
  for (let attempt = 0; ; attempt++) {
    const height = node.height;
    if (height === 0) throw BLOCK_ERRORS.BLOCK_NOT_FOUND('no block committed yet: nothing to prove against');
    const recorder = new RecordingReader(node.storage);
    const state = new ReadOnlyStore(recorder);
    const ctx = node.app.queryContext(module, { height, time: node.latestBlockTime }, state);
    const value = await handle(withNonceOf(ctx, (address: string) => node.app.nonceOf(address, state)));
    if (node.height !== height && attempt < 3) continue;
    if (node.height !== height) throw PROOF_ERRORS.PROOF_UNAVAILABLE('the chain moved on while the query ran; retry');
    return { height, value, proof: { ...signedHeader(node, height), state: node.app.proveReads(recorder.reads()) } };
  }
}

/** The header of a height, its commit and the validator set that signed it. */
function signedHeader(node: LedgerNode, height: number): SignedHeaderJson {
  const stored = node.storage.getBlock(height);
  if (!stored) throw BLOCK_ERRORS.BLOCK_NOT_FOUND(`no block at height ${height} (latest is ${node.height})`);
  return { header: stored.block.header as unknown as Record<string, unknown>, commit: stored.commit as unknown as Record<string, unknown>, validators: node.validatorsAt(height) };
}

/** Routes for light clients: signed headers with their validator sets. */
export function lightHandlers(node: LedgerNode): BoundRoute[] {
  return [{ route: lightRoutes.signedHeader, handler: ({ params }) => ({ ...signedHeader(node, params.height as number), nextValidators: node.validatorsAt((params.height as number) + 1) }) }];
}

export const RAW_PATHS: Record<string, Record<string, unknown>> = {
  ...EVENTS_OPENAPI,
  '/metrics': {
    get: { operationId: 'metrics', summary: 'Prometheus metrics', tags: ['node'], responses: { '200': { description: 'metrics', content: { 'text/plain': { schema: { type: 'string' } } } } } },
  },
};

