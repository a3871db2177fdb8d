import type { FastifyRequest } from 'fastify';
import { AUTH_ERRORS, authRoutes, bearerToken } from '../api/auth.js';
import type { HandlerInput, RouteDef, RouteOutput, RouteReader } from '../api/route.js';
import { coreRoutes } from '../api/routes.js';
import type { BoundRoute } from '../api/server.js';
import { lightRoutes } from '../surface/prove.js';
import { energyRoutes } from '../modules/energy/routes.js';
import { meteringRoutes } from '../modules/metering/routes.js';
import { registryRoutes } from '../modules/registry/routes.js';
import { settlementRoutes } from '../modules/settlement/routes.js';
import { anchorRoutes } from '../modules/anchor/routes.js';
import { paymentsRoutes } from '../modules/payments/routes.js';
import { anonRoutes } from '../modules/anon/routes.js';
import { flexRoutes } from '../modules/flex/routes.js';
import { marketRoutes } from '../modules/market/routes.js';
import { sharesRoutes } from '../modules/shares/routes.js';
import { messagingRoutes } from '../messaging/index.js';
import { kpiRoutes } from './community-kpis.js';
import type { TokenClaims, TokenIssuer } from './auth.js';

/**
 * THE read policy (issue 10 #2): one entry per API route, keyed by route name. A route is
 *  - public: anyone reads it (blocks, transactions, community totals, registries, tariffs…), or
 *  - private: one party's data (one meter's readings, one trader's balances and history, one
 *    customer's PV portions and bills). It answers only the parties the entry names for the request
 *    — found in committed state: the meter's account and linked traders, the community owner (and
 *    owners of its parent communities), the plant operator and the utilities billing on the plant —
 *    plus accounts holding one of the entry's roles, and always auditors (role `auditor`).
 * Some routes are public for an aggregate and private for one party (`publicWhen`): a community's
 * day is public, one trader's day is not.
 *
 * Refusals: no token → 401 AUTH_REQUIRED; bad or expired token → 401; revoked account → 403
 * AUTH_ACCOUNT_NOT_ADMITTED; not a party → 403 READ_FORBIDDEN. A route without an entry (a module
 * added later) is refused to everyone but auditors, and test/auth/policy.test.ts fails until it has one.
 * docs/dashboard.md shows this table; the same test checks that the page lists every entry.
 */

/** Who a private request concerns: named accounts and roles allowed besides auditors. */
export interface Parties {
  addresses: Set<string>;
  roles: readonly string[];
  /** Further parties that cost a scan to find; asked only when the caller is none of the above. */
  more?(): Promise<Parties>;
}

/** Calls a query route of this node from committed state (for finding the parties). */
export type Lookup = RouteReader;

export interface ReadRule {
  route: string;
  access: 'public' | 'private';
  /** What the route shows, for the documented table. */
  data: string;
  /** Who reads it, for the documented table. */
  readers: string;
  /** Private routes: the request asks only for an aggregate, which anyone may read. */
  publicWhen?(input: any): boolean;
  /** Private routes: the parties of this request. */
  parties?(input: any, look: Lookup): Promise<Parties>;
}

export const AUDITOR_ROLE = 'auditor';
const GRID_OPERATOR = 'grid-operator';

function publicRoute(route: RouteDef, data: string): ReadRule {
  return { route: route.name, access: 'public', data, readers: 'anyone' };
}

function privateRoute<R extends RouteDef>(
  route: R,
  spec: { data: string; readers: string; publicWhen?(input: HandlerInput<R>): boolean; parties(input: HandlerInput<R>, look: Lookup): Promise<Parties> },
): ReadRule {
  return { route: route.name, access: 'private', ...spec };
}

function parties(addresses: Iterable<string | null | undefined>, roles: readonly string[] = []): Parties {
  return { addresses: new Set([...addresses].filter((a): a is string => typeof a === 'string')), roles };
}

function merge(...all: Parties[]): Parties {
  return { addresses: new Set(all.flatMap((p) => [...p.addresses])), roles: [...new Set(all.flatMap((p) => p.roles))] };
}

// ── who is concerned ──

/** The owner of a community and of every community above it; grid operators. */
async function communityParties(id: string, look: Lookup): Promise<Parties> {
  const { owners } = await look(energyRoutes.communityOwners, { params: { id } });
  return parties(owners.map((o) => o.owner), [GRID_OPERATOR]);
}

/** The operator of a shared PV plant and every utility that bills a participant of it. */
/** An asset's issuer, from its record alone (no attestations, no pending redemptions). */
async function assetIssuer(asset: string, look: Lookup): Promise<string> {
  return (await look(paymentsRoutes.getAsset, { params: { asset }, query: { attestations: 0, pending: 0 } })).asset.issuer;
}

async function plantParties(plant: string, look: Lookup): Promise<Parties> {
  const p = await look(sharesRoutes.getPlant, { params: { plant } });
  return parties([p.operator, ...p.keys.flatMap((k) => k.participants.map((x) => x.utility))]);
}

/** The utility of one participant of a plant (from every version of the key naming it). */
async function participantUtilities(plant: string, address: string, look: Lookup): Promise<Parties> {
  const p = await look(sharesRoutes.getPlant, { params: { plant } });
  return parties([p.operator, address, ...p.keys.flatMap((k) => k.participants.filter((x) => x.address === address).map((x) => x.utility))]);
}

/** The plants whose record names the meter (shares state version 2: from its index; version 1: every plant, read a bounded page at a time). */
async function plantsOfMeter(meterId: string, look: Lookup) {
  const plants: RouteOutput<typeof sharesRoutes.listPlants>['plants'] = [];
  for (let after: string | undefined; ; ) {
    const page: RouteOutput<typeof sharesRoutes.listPlants> = await look(sharesRoutes.listPlants, { query: { meter: meterId, after, limit: 500 } });
    plants.push(...page.plants);
    if (page.next === undefined) return plants;
    after = page.next;
  }
}

/**
 * A meter's parties: its own account and registrant; the traders it is linked to and the owners of
 * those communities; the plants it measures (operator, utilities) or the participant it belongs
 * to (and that participant's utility); grid operators.
 */
async function meterParties(meterId: string, look: Lookup): Promise<Parties> {
  const { meter } = await look(meteringRoutes.getMeter, { params: { meterId } });
  // The meter's own account (its edge agent) and grid operators are answered without scanning.
  return { ...parties([meter.address, meter.registeredBy], [GRID_OPERATOR]), more: () => linkedParties(meterId, look) };
}

/**
 * The traders a meter is linked to and their communities' owners, from the meter's own links (a
 * look-up per community, not a scan of every community); the plants it measures or belongs to are
 * asked only after those (on a chain before shares state version 2, finding them reads every plant).
 */
async function linkedParties(meterId: string, look: Lookup): Promise<Parties> {
  const { links } = await look(energyRoutes.meterLinks, { params: { meterId } });
  const found: Parties[] = [parties(links.map((l) => l.trader))];
  for (const community of new Set(links.map((l) => l.community))) found.push(await communityParties(community, look));
  return { ...merge(...found), more: () => plantPartiesOfMeter(meterId, look) };
}

/** The plants a meter measures (their operators and utilities) or belongs to as a participant's meter. */
async function plantPartiesOfMeter(meterId: string, look: Lookup): Promise<Parties> {
  const found: Parties[] = [];
  for (const plant of await plantsOfMeter(meterId, look)) {
    if (plant.productionMeter === meterId) found.push(await plantParties(plant.id, look));
    for (const k of plant.keys) for (const p of k.participants) if (p.meter === meterId) found.push(parties([p.address, p.utility, plant.operator]));
  }
  return merge(...found);
}

// ── the table ──

const RULES: ReadRule[] = [
  // ledger core: everything in blocks is public
  publicRoute(coreRoutes.submitTx, 'submit a signed transaction (the signature authorises it)'),
  publicRoute(coreRoutes.submitTxBatch, 'submit signed transactions'),
  publicRoute(coreRoutes.getTx, 'a transaction and its committed result'),
  publicRoute(coreRoutes.accountNonce, "an account's nonce"),
  publicRoute(coreRoutes.latestBlock, 'the latest block with its results'),
  publicRoute(coreRoutes.getBlock, 'a block with its results'),
  publicRoute(coreRoutes.status, 'node and consensus status, peers'),
  publicRoute(coreRoutes.evidence, 'evidence of validator equivocation'),
  publicRoute(coreRoutes.modules, 'modules, parameters, scheduled upgrades'),
  publicRoute(coreRoutes.health, 'liveness'),
  publicRoute(lightRoutes.signedHeader, 'a signed header with its validator sets (light clients)'),
  // messaging (off the ledger): envelopes are ciphertexts naming no one, or signed broadcasts; posting needs a stamp, not a login (a login would tell the node who writes)
  publicRoute(messagingRoutes.messagingParams, 'stamp and expiry rules of the messaging layer'),
  publicRoute(messagingRoutes.postMessage, 'submit a stamped message envelope (the stamp pays for it)'),
  publicRoute(messagingRoutes.listMessages, 'stored message envelopes: ciphertexts and signed broadcasts'),
  publicRoute(messagingRoutes.messagingStats, "the node's messaging figures: messages held, accepted, refused, relayed (counts only)"),
  publicRoute(authRoutes.authChallenge, 'a login challenge'),
  publicRoute(authRoutes.authToken, 'a bearer token for a signed challenge'),
  publicRoute(authRoutes.whoami, "the caller's own address and roles"),
  // registry: who takes part is public in a permissioned ledger
  publicRoute(registryRoutes.getAccount, 'an account: roles, admitted or revoked'),
  publicRoute(registryRoutes.listAccounts, 'admitted and revoked accounts'),
  publicRoute(registryRoutes.registryLog, 'admissions (genesis included), role changes and revocations with reasons'),
  privateRoute(registryRoutes.inactiveAccounts, {
    data: 'accounts without a transaction for N days, with when each was last active',
    readers: 'operators, auditors',
    parties: async () => parties([], ['operator']),
  }),
  publicRoute(registryRoutes.listValidators, 'the validator set'),
  publicRoute(registryRoutes.listProposals, 'governance proposals and approvals'),
  publicRoute(registryRoutes.getProposal, 'a governance proposal'),
  publicRoute(registryRoutes.listJails, 'validators jailed for equivocation'),
  // metering: the device registry is public, what a meter measured is not
  publicRoute(meteringRoutes.getMeter, 'a meter: device, account, maximum power, reading count'),
  publicRoute(meteringRoutes.meterByAddress, 'the meter an account signs for'),
  publicRoute(meteringRoutes.listMeters, 'registered meters'),
  privateRoute(meteringRoutes.missingReadings, {
    data: 'which meters lack readings in a slot or day',
    readers: 'grid operators, operators, auditors',
    parties: async () => parties([], [GRID_OPERATOR, 'operator']),
  }),
  privateRoute(meteringRoutes.listReadings, {
    data: "one meter's interval readings",
    readers: "the meter's account and registrant, the traders it is linked to, the owners of those communities (and their parents), the plant operator and utilities concerned, grid operators, auditors",
    parties: ({ params }, look) => meterParties(params.meterId, look),
  }),
  privateRoute(meteringRoutes.listFingerprints, {
    data: "fingerprints of one meter's off-chain samples",
    readers: 'as for readings',
    parties: ({ params }, look) => meterParties(params.meterId, look),
  }),
  privateRoute(meteringRoutes.listDifferences, {
    data: "official − reported values of one meter",
    readers: 'as for readings',
    parties: ({ params }, look) => meterParties(params.meterId, look),
  }),
  // energy: a community's totals are public, one trader's position is not
  publicRoute(energyRoutes.listCommunities, 'communities'),
  publicRoute(energyRoutes.getCommunity, 'a community: traders (members), child communities, meter links'),
  publicRoute(energyRoutes.traders, "a community's traders (as the community shows them)"),
  publicRoute(energyRoutes.children, "a community's member communities (as the community shows them)"),
  publicRoute(energyRoutes.meters, "a community's meters and their links (as the community shows them)"),
  publicRoute(energyRoutes.traderCommunities, 'the communities an account trades in (the traders and meter links the communities show)'),
  publicRoute(energyRoutes.communityOwners, 'the owners of a community and of the communities above it'),
  publicRoute(energyRoutes.meterLinks, "a meter's links to traders in communities (the same links a community shows)"),
  privateRoute(energyRoutes.balances, {
    data: "balances by trader, slot and label (trader= narrows to one trader's)",
    readers: 'the community owner (and owners of its parents), grid operators, auditors; with trader=, also that trader',
    parties: async ({ params, query }, look) => merge(await communityParties(params.id, look), parties([query.trader])),
  }),
  privateRoute(energyRoutes.day, {
    data: "net position per slot of a day: the community's total (public) or one trader's (trader=)",
    readers: "without trader=: anyone; with trader=: that trader, the community owner (and parents' owners), grid operators, auditors",
    publicWhen: ({ query }) => query.trader === undefined,
    parties: async ({ params, query }, look) => merge(await communityParties(params.id, look), parties([query.trader])),
  }),
  privateRoute(energyRoutes.history, {
    data: "every change of one trader's balances",
    readers: "the trader, the community owner (and parents' owners), grid operators, auditors",
    parties: async ({ params, query }, look) => merge(await communityParties(params.id, look), parties([query.trader])),
  }),
  privateRoute(kpiRoutes.communityKpis, {
    data: "a community's KPIs over days with every member's energy totals, bill and savings (gridledger report)",
    readers: "the community owner (and owners of its parents), grid operators, auditors",
    parties: ({ params }, look) => communityParties(params.id, look),
  }),
  privateRoute(energyRoutes.adjustments, {
    data: "the owner's mutations and settlements with the parent (billed outside the community)",
    readers: "the community owner (and parents' owners), grid operators, auditors",
    parties: ({ params }, look) => communityParties(params.id, look),
  }),
  privateRoute(energyRoutes.differences, {
    data: "official − reported values of the community's meters, per trader",
    readers: "the community owner (and parents' owners), grid operators, auditors",
    parties: ({ params }, look) => communityParties(params.id, look),
  }),
  // shares: a plant and its key are registered in public; who holds what afterwards is private
  publicRoute(sharesRoutes.getPlant, 'a shared PV plant and its registered distribution keys'),
  publicRoute(sharesRoutes.listPlants, 'shared PV plants (all, by utility, or by meter)'),
  privateRoute(sharesRoutes.plantHoldings, {
    data: "every participant's portions per slot of a day",
    readers: 'the plant operator, the utilities billing on the plant, auditors',
    parties: ({ params }, look) => plantParties(params.plant, look),
  }),
  privateRoute(sharesRoutes.participantHoldings, {
    data: "one participant's portions per slot",
    readers: "the participant, the participant's utility, the plant operator, auditors",
    parties: ({ params }, look) => participantUtilities(params.plant, params.address, look),
  }),
  privateRoute(sharesRoutes.plantSegments, {
    data: "every participant's portions as runs (billing input)",
    readers: 'the plant operator, the utilities billing on the plant, auditors',
    parties: ({ params }, look) => plantParties(params.plant, look),
  }),
  privateRoute(sharesRoutes.plantTransfers, {
    data: "the plant's history of keys and transfers (address= narrows to one participant's)",
    readers: 'the plant operator, the utilities billing on the plant, auditors; with address=, also that participant',
    parties: async ({ params, query }, look) => merge(await plantParties(params.plant, look), parties([query.address])),
  }),
  // settlement: prices are public, bills are not
  publicRoute(settlementRoutes.tariffs, "a utility's tariffs"),
  privateRoute(settlementRoutes.statement, {
    data: 'a recorded statement hash: customer, plant, period, revision',
    readers: 'the customer, the utility, the plant operator, auditors',
    parties: async ({ params }, look) => {
      const { record } = await look(settlementRoutes.statement, { params: { hash: params.hash } });
      const plant = await look(sharesRoutes.getPlant, { params: { plant: record.plant } });
      return parties([record.customer, record.utility, plant.operator]);
    },
  }),
  privateRoute(settlementRoutes.bill, {
    data: 'statements (bills) of a plant computed from ledger data (customer= narrows to one customer)',
    readers: 'the plant operator, the utilities billing on the plant, auditors; with customer=, also that customer',
    parties: async ({ params, query }, look) => merge(await plantParties(params.plant, look), parties([query.customer])),
  }),
  // anchor: checkpoints and their Bitcoin anchors are public commitments (hashes, no readings)
  publicRoute(anchorRoutes.anchorStatus, 'anchoring parameters and progress'),
  publicRoute(anchorRoutes.listCheckpoints, 'checkpoints'),
  publicRoute(anchorRoutes.getCheckpoint, 'a checkpoint'),
  publicRoute(anchorRoutes.checkpointItems, "a checkpoint's items (reading fingerprints)"),
  publicRoute(anchorRoutes.listAnchors, 'Bitcoin anchors'),
  publicRoute(anchorRoutes.inclusion, "an item's inclusion proof"),
  publicRoute(anchorRoutes.verification, "a checkpoint's verification report"),
  // payments: an asset's supply against its reserve is public, what one account holds and pays is not
  publicRoute(paymentsRoutes.listAssets, 'assets, supply against the attested reserve'),
  publicRoute(paymentsRoutes.getAsset, 'an asset, its supply and reserve attestations'),
  privateRoute(paymentsRoutes.balances, {
    data: "one account's balances and held amounts",
    readers: 'the account, auditors',
    parties: async ({ params }) => parties([params.address]),
  }),
  privateRoute(paymentsRoutes.history, {
    data: "every change of one account's balances",
    readers: 'the account, auditors',
    parties: async ({ params }) => parties([params.address]),
  }),
  privateRoute(paymentsRoutes.locks, {
    data: "one account's locked funds",
    readers: 'the account, auditors',
    parties: async ({ params }) => parties([params.address]),
  }),
  privateRoute(paymentsRoutes.redemptions, {
    data: 'redemption requests of a party (party=) or of an asset (asset=)',
    readers: "with party=: that party; with asset=: the asset's issuer; auditors",
    parties: async ({ query }, look) => parties([query.party, query.asset ? await assetIssuer(query.asset, look) : undefined]),
  }),
  privateRoute(paymentsRoutes.redemption, {
    data: 'one redemption request',
    readers: "its holder, the asset's issuer, auditors",
    parties: async ({ params }, look) => {
      const { redemption } = await look(paymentsRoutes.redemption, { params: { id: params.id } });
      return parties([redemption.holder, await assetIssuer(redemption.asset, look)]);
    },
  }),
  privateRoute(paymentsRoutes.escrows, {
    data: 'escrows of a party (party=)',
    readers: 'that party, auditors',
    parties: async ({ query }) => parties([query.party]),
  }),
  privateRoute(paymentsRoutes.escrow, {
    data: 'one escrow',
    readers: 'its payer, payee, other parties, mediator and owner; auditors',
    parties: async ({ params }, look) => {
      const { escrow } = await look(paymentsRoutes.escrow, { params: { id: params.id } });
      return parties([escrow.payer, escrow.payee, escrow.mediator, escrow.owner, ...escrow.parties]);
    },
  }),
  privateRoute(paymentsRoutes.channels, {
    data: 'payment channels of a party (party=)',
    readers: 'that party, auditors',
    parties: async ({ query }) => parties([query.party]),
  }),
  privateRoute(paymentsRoutes.channel, {
    data: 'one payment channel',
    readers: 'its buyer and seller, auditors',
    parties: async ({ params }, look) => {
      const { channel } = await look(paymentsRoutes.channel, { params: { id: params.id } });
      return parties([channel.buyer, channel.seller]);
    },
  }),
  // flex: programs, keys and events are public: an event carries requested reductions, Poseidon
  // commitments and proved deviations; measured values never reach the ledger (docs/flex.md)
  publicRoute(flexRoutes.keys, 'registered verifying keys'),
  publicRoute(flexRoutes.key, 'a verifying key'),
  publicRoute(flexRoutes.programs, 'demand-response programs'),
  publicRoute(flexRoutes.program, 'a program'),
  publicRoute(flexRoutes.events, 'events: requests, commitments, proved deviations, rewards'),
  publicRoute(flexRoutes.event, 'an event with its intervals and escrow'),
  // anon: identity commitments, the members' tree and roots, used nullifiers and anonymous accounts
  // are ledger facts every prover and verifier needs; none names the member behind an account (docs/anon.md)
  publicRoute(anonRoutes.status, "membership key, epoch, slot limit, valid members' roots"),
  publicRoute(anonRoutes.leaves, "every leaf of the members' tree (a member computes its own path locally)"),
  publicRoute(anonRoutes.roots, "history of the members' root"),
  publicRoute(anonRoutes.member, "a member's identity commitment"),
  publicRoute(anonRoutes.account, 'an anonymous account: epoch and expiry, never its member'),
  publicRoute(anonRoutes.nullifier, 'whether a nullifier was used'),
  publicRoute(anonRoutes.offers, 'the anonymous offer board'),
  publicRoute(anonRoutes.offer, 'an anonymous offer and its escrow id'),
  // market: the advert board, depth and clearing prices are public (price discovery); one trader's
  // orders, trades, contracts and bills concern that trader and the community's owners
  publicRoute(marketRoutes.market, "a community's market and tariffs"),
  publicRoute(marketRoutes.book, 'order book depth per price level'),
  publicRoute(marketRoutes.offers, 'the advert board (open offers)'),
  publicRoute(marketRoutes.clearing, 'clearing prices and volumes'),
  publicRoute(marketRoutes.producers, 'producers, their labels and open offers'),
  privateRoute(marketRoutes.orders, {
    data: "a trader's orders",
    readers: "that trader, the community's owners, grid operators",
    parties: async ({ params, query }, look) => merge(parties([query.trader]), await communityParties(params.community, look)),
  }),
  privateRoute(marketRoutes.order, {
    data: 'one order and its trades',
    readers: "its trader, the community's owners, grid operators",
    parties: async ({ params }, look) => {
      const { order } = await look(marketRoutes.order, { params: { id: params.id } });
      return merge(parties([order.trader]), await communityParties(order.community, look));
    },
  }),
  privateRoute(marketRoutes.trades, {
    data: 'trades with buyers and sellers',
    readers: "the trader named by ?trader, the community's owners, grid operators",
    parties: async ({ params, query }, look) => merge(parties([query.trader]), await communityParties(params.community, look)),
  }),
  privateRoute(marketRoutes.contracts, {
    data: 'supply contracts',
    readers: "the party named by ?party, the community's owners, grid operators",
    parties: async ({ params, query }, look) => merge(parties([query.party]), await communityParties(params.community, look)),
  }),
  privateRoute(marketRoutes.contract, {
    data: 'one supply contract and its settled slots',
    readers: "its consumer, prosumer and mediator, the community's owners, grid operators",
    parties: async ({ params }, look) => {
      const { contract } = await look(marketRoutes.contract, { params: { id: params.id } });
      return merge(parties([contract.consumer, contract.prosumer, contract.mediator]), await communityParties(contract.community, look));
    },
  }),
  privateRoute(marketRoutes.bills, {
    data: "members' bills",
    readers: "the member named by ?member, the community's owners, grid operators",
    parties: async ({ params, query }, look) => merge(parties([query.member]), await communityParties(params.community, look)),
  }),
  privateRoute(marketRoutes.billRecord, {
    data: 'a recorded bill hash',
    readers: "its member, the community's owners, grid operators",
    parties: async ({ params }, look) => {
      const { record } = await look(marketRoutes.billRecord, { params: { hash: params.hash } });
      return merge(parties([record.member]), await communityParties(record.community, look));
    },
  }),
];

export const READ_POLICY: Readonly<Record<string, ReadRule>> = Object.freeze(Object.fromEntries(RULES.map((r) => [r.route, r])));

// ── enforcement ──

export interface ReadGuardDeps {
  issuer: TokenIssuer;
  lookup: Lookup;
  /** Roles of an admitted, not revoked account; null otherwise. */
  activeRoles(address: string): Promise<string[] | null>;
}

/** The caller's token claims: null without an Authorization header; 401 for a bad or expired token. */
export function claimsOf(issuer: TokenIssuer, request: { headers: Record<string, string | string[] | undefined> }): TokenClaims | null {
  const header = request.headers.authorization;
  if (header === undefined) return null;
  const token = bearerToken(Array.isArray(header) ? header[0] : header);
  if (token === undefined) throw AUTH_ERRORS.AUTH_TOKEN_INVALID('send the token as Authorization: Bearer <token>');
  return issuer.verify(token);
}

/** Decides one request by the table; throws the refusal. */
export async function checkRead(deps: ReadGuardDeps, route: RouteDef, input: unknown, request: Pick<FastifyRequest, 'headers'>): Promise<void> {
  const rule = READ_POLICY[route.name];
  if (rule?.access === 'public' || rule?.publicWhen?.(input)) return;
  const claims = claimsOf(deps.issuer, request);
  if (!claims) throw AUTH_ERRORS.AUTH_REQUIRED(`${route.method} ${route.path} serves private data: log in and send a bearer token`);
  const roles = await deps.activeRoles(claims.address);
  if (!roles) throw AUTH_ERRORS.AUTH_ACCOUNT_NOT_ADMITTED(`${claims.address} is not admitted or was revoked`);
  if (roles.includes(AUDITOR_ROLE)) return;
  if (!rule?.parties) throw AUTH_ERRORS.READ_FORBIDDEN(`${route.name} has no read policy yet: only auditors may read it`);
  for (let allowed: Parties | undefined = await rule.parties(input, deps.lookup); allowed; allowed = await allowed.more?.()) {
    if (allowed.addresses.has(claims.address) || roles.some((r) => allowed!.roles.includes(r))) return;
  }
  throw AUTH_ERRORS.READ_FORBIDDEN(`${claims.address} may not read this: ${rule.readers}`);
}

/** A Lookup over the node's own bound routes (inputs parsed by the route schemas, as from HTTP). */
export function lookupOver(bound: readonly BoundRoute[]): Lookup {
  // By name: the node serves module routes wrapped (e.g. with the `prove` parameter), not the definitions themselves.
  const byName = new Map(bound.map((b) => [b.route.name, b]));
  return async (route, input) => {
    const b = byName.get(route.name);
    if (!b) throw new Error(`route ${route.name} is not served by this node`);
    const served = b.route;
    const raw = input as { params?: unknown; query?: unknown; body?: unknown };
    const parsed = {
      params: served.params ? served.params.parse(raw.params ?? {}) : undefined,
      query: served.query ? served.query.parse(raw.query ?? {}) : undefined,
      body: served.body ? served.body.parse(raw.body) : undefined,
    };
    return (await b.handler(parsed, undefined as never)) as never;
  };
}

/** The table as it appears in docs/dashboard.md (a test checks the page carries exactly this). */
export function readPolicyMarkdown(): string {
  const rows = RULES.map((r) => `| \`${r.route}\` | ${r.access} | ${r.data} | ${r.readers} |`);
  return ['| route | access | data | who may read it (auditors always may) |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
