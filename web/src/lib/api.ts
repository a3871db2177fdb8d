import { authRoutes } from '../../../src/api/auth.js';
import { callRoute, createClient } from '../../../src/api/client.js';
import { coreRoutes } from '../../../src/api/routes.js';
import { anchorRoutes } from '../../../src/modules/anchor/routes.js';
import { anonRoutes } from '../../../src/modules/anon/routes.js';
import { messagingRoutes } from '../../../src/messaging/routes.js';
import { energyRoutes } from '../../../src/modules/energy/routes.js';
import { everyPage, type RouteReader } from '../../../src/api/route.js';
import { flexRoutes } from '../../../src/modules/flex/routes.js';
import { marketRoutes } from '../../../src/modules/market/routes.js';
import { meteringRoutes } from '../../../src/modules/metering/routes.js';
import { paymentsRoutes } from '../../../src/modules/payments/routes.js';
import { registryRoutes } from '../../../src/modules/registry/routes.js';
import type { Role } from '../../../src/modules/registry/state.js';
import { settlementRoutes } from '../../../src/modules/settlement/routes.js';
import { sharesRoutes } from '../../../src/modules/shares/routes.js';
import { kpiRoutes } from '../../../src/runtime/kpi-routes.js';
import { session } from './session';

/**
 * The dashboard's only way to the node: the typed client over the same route definitions the
 * server is built from (no hand-written paths or schemas). The bearer token of the signed-in
 * account rides along on every call; public routes ignore it.
 */
const base = window.location.origin;
const token = () => session.get().token ?? undefined;
const client = <T extends Parameters<typeof createClient>[1]>(routes: T) => createClient(base, routes, { token });

export const api = {
  core: client(coreRoutes),
  auth: client(authRoutes),
  registry: client(registryRoutes),
  metering: client(meteringRoutes),
  energy: client(energyRoutes),
  shares: client(sharesRoutes),
  settlement: client(settlementRoutes),
  payments: client(paymentsRoutes),
  market: client(marketRoutes),
  flex: client(flexRoutes),
  anchor: client(anchorRoutes),
  kpi: client(kpiRoutes),
  anon: client(anonRoutes),
  messaging: client(messagingRoutes),
};

/** One call of any route (for the paging helpers the route modules export, e.g. energy's wholeCommunity). */
export const readRoute: RouteReader = (route, input) => callRoute(base, route, input, { token: token() });

const cursor = (after: string | undefined) => ({ ...(after !== undefined ? { after } : {}), limit: 500 });

/** Every community, a page at a time (the list route answers at most 500 per request). */
export function allCommunities() {
  return everyPage(async (after) => {
    const page = await api.energy.listCommunities({ query: cursor(after) });
    return { items: page.communities, ...(page.next !== undefined ? { next: page.next } : {}) };
  });
}

/** Every asset's supply, a page at a time (the list route answers at most 500 per request). */
export async function allAssetSupplies() {
  const supply = await everyPage(async (after) => {
    const page = await api.payments.listAssets({ query: cursor(after) });
    return { items: page.supply, ...(page.next !== undefined ? { next: page.next } : {}) };
  });
  return { supply };
}

/** Up to `limit` accounts holding `role`, following `next` (a request reads a bounded part of the registry, so a rare role may take several). */
export async function accountsWithRole(role: Role, limit: number) {
  const accounts = [];
  let after: string | undefined;
  do {
    const page = await api.registry.listAccounts({ query: { role, limit: limit - accounts.length, ...(after !== undefined ? { after } : {}) } });
    accounts.push(...page.accounts);
    after = page.next;
  } while (after !== undefined && accounts.length < limit);
  return accounts;
}
