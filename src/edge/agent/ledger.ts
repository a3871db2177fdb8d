import { createClient, type Client } from '../../api/client.js';
import { coreRoutes } from '../../api/routes.js';
import type { RouteOutput } from '../../api/route.js';
import type { SignedTx } from '../../codec/tx.js';
import { meteringRoutes } from '../../modules/metering/routes.js';
import { LedgerError } from '../../util/errors.js';
import { createAuthedClient, type AuthSigner } from '../../cli/session.js';
import type { OnChainFingerprint } from '../verify.js';

/**
 * What the agent asks of a node, through the typed API client (the same route definitions the node
 * serves). Network failures surface as LedgerError NODE_UNREACHABLE (status 503), node answers with
 * the node's own codes.
 */

const routes = { ...coreRoutes, ...meteringRoutes };

export type OnChainReading = RouteOutput<typeof meteringRoutes.listReadings>['readings'][number];
export type TxStatus = RouteOutput<typeof coreRoutes.getTx>;
export type AdmissionResult = RouteOutput<typeof coreRoutes.submitTxBatch>['results'][number];

export class LedgerLink {
  private readonly api: Client<typeof routes>;
  private readonly readers = new Map<string, Client<typeof meteringRoutes>>();

  /**
   * `readerFor` names the key that reads a meter's private data (its readings and fingerprints are
   * private reads: the meter's own key, its community's owner or an auditor may read them); without
   * one those reads go unauthenticated and the node refuses them (AUTH_REQUIRED).
   */
  constructor(
    readonly url: string,
    private readonly readerFor: (meterId: string) => AuthSigner | undefined = () => undefined,
  ) {
    this.api = createClient(url, routes);
  }

  /** The client for a meter's private reads: logged in as its reader (token renewed when it expires). */
  private privateApi(meterId: string): Client<typeof meteringRoutes> {
    const signer = this.readerFor(meterId);
    if (!signer) return this.api;
    let client = this.readers.get(meterId);
    if (!client) this.readers.set(meterId, (client = createAuthedClient(this.url, meteringRoutes, signer)));
    return client;
  }

  async chain(): Promise<{ chainId: string; height: number; latestBlockTime: number }> {
    const s = await this.api.status({});
    return { chainId: s.chainId, height: s.height, latestBlockTime: s.latestBlockTime };
  }

  /** The nonce for the sender's next transaction, counting its pending ones. */
  async nextNonce(address: string): Promise<number> {
    return (await this.api.accountNonce({ params: { address } })).next;
  }

  submit(txs: SignedTx[]): Promise<AdmissionResult[]> {
    return this.api.submitTxBatch({ body: { txs } }).then((r) => r.results);
  }

  /** Status of a transaction; undefined when the node knows no such transaction (dropped, or never arrived). */
  async tx(hash: string): Promise<TxStatus | undefined> {
    try {
      return await this.api.getTx({ params: { hash }, query: { wait: 0 } });
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'TX_NOT_FOUND') return undefined;
      throw err;
    }
  }

  /** The registered meter, or undefined. */
  async meter(meterId: string) {
    try {
      return (await this.api.getMeter({ params: { meterId } })).meter;
    } catch (err) {
      if (err instanceof LedgerError && err.code === 'METER_NOT_FOUND') return undefined;
      throw err;
    }
  }

  async readingAt(meterId: string, slot: number): Promise<OnChainReading | undefined> {
    return (await this.privateApi(meterId).listReadings({ params: { meterId }, query: { slot: String(slot), limit: 1 } })).readings[0];
  }

  /**
   * On-chain fingerprints of slots fromSlot ≤ slot ≤ toSlot (inclusive), following the route's pages.
   * With `asCaller` (a bearer token of the node the agent uses) they are read as that caller, so the
   * node's read policy decides for the caller; otherwise as the meter's configured reader.
   */
  async fingerprints(meterId: string, fromSlot: number, toSlot: number, asCaller?: { token: string }): Promise<Map<number, OnChainFingerprint>> {
    const out = new Map<number, OnChainFingerprint>();
    const api = asCaller ? createClient(this.url, meteringRoutes, { token: () => asCaller.token }) : this.privateApi(meterId);
    let from: number | undefined = fromSlot;
    while (from !== undefined) {
      const page: RouteOutput<typeof meteringRoutes.listFingerprints> = await api.listFingerprints({ params: { meterId }, query: { fromSlot: String(from), toSlot: String(toSlot + 1), limit: 5000 } });
      for (const f of page.fingerprints) out.set(f.slot, { fingerprint: f.fingerprint, sampleCount: f.sampleCount });
      from = page.nextSlot;
    }
    return out;
  }
}

/** Errors worth retrying later: the node is unreachable, overloaded or failing, or answered garbage. */
export function isTransient(err: unknown): boolean {
  if (!(err instanceof LedgerError)) return true;
  return err.status >= 500 || err.status === 429 || err.code === 'NODE_UNREACHABLE' || err.code === 'BAD_RESPONSE';
}
