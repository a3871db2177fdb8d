import { Kernel } from '../../../src/app/kernel.js';
import { trustFromJson } from '../../../src/light/client.js';
import { verifyStatementEvidence, type EvidenceCheck } from '../../../src/light/statement.js';
import { anchorCore } from '../../../src/modules/anchor/module.js';
import { energyCore } from '../../../src/modules/energy/module.js';
import { flexCore } from '../../../src/modules/flex/module.js';
import { marketCore } from '../../../src/modules/market/module.js';
import { billsRoute } from '../../../src/modules/market/queries.js';
import { billStatementQuery, marketRoutes } from '../../../src/modules/market/routes.js';
import { meteringCore } from '../../../src/modules/metering/module.js';
import { paymentsCore } from '../../../src/modules/payments/module.js';
import { registryCore } from '../../../src/modules/registry/module.js';
import { settlementCore } from '../../../src/modules/settlement/module.js';
import { billPlantRoute } from '../../../src/modules/settlement/queries.js';
import { pvStatementQuery, settlementRoutes } from '../../../src/modules/settlement/routes.js';
import { statementHash, type Statement } from '../../../src/modules/settlement/statement.js';
import { sharesCore } from '../../../src/modules/shares/module.js';
import type { QueryRoute } from '../../../src/surface/index.js';

/**
 * The dashboard's "verify" of a statement file (issue 17 #4), in the browser: the same checks as
 * `gridledger verify statement FILE --offline --trusted GENESIS_OR_HEADER` (src/light/statement.ts),
 * with no node asked — the signed headers from the trusted genesis or header, the state proof
 * against the header's state root, and the statement recomputed over the proven ledger values by
 * the same module code the node runs. Bundled without node: APIs (test/web/statement-bundle.test.ts).
 */

const CORES = [registryCore, meteringCore, energyCore, sharesCore, settlementCore, anchorCore, paymentsCore, flexCore, marketCore];

/** The statement kinds the dashboard verifies: the module, its query route and how to ask it for one statement. */
const KINDS: Record<string, { module: string; route: QueryRoute; spec: (s: Record<string, unknown>) => ReturnType<typeof billStatementQuery> }> = {
  'gridledger/pv-statement': { module: 'settlement', route: billPlantRoute as QueryRoute, spec: (s) => pvStatementQuery(s as unknown as Statement) },
  'gridledger/market-bill': { module: 'market', route: billsRoute as QueryRoute, spec: billStatementQuery },
};

export interface BrowserVerification {
  ok: boolean;
  hash: string;
  checks: EvidenceCheck[];
}

export async function verifyStatementInBrowser(statement: Record<string, unknown>, trustedJson: unknown): Promise<BrowserVerification> {
  const kind = KINDS[String(statement.kind)];
  const hash = statementHash(statement);
  const hashCheck: EvidenceCheck = statement.hash === undefined ? { name: 'hash-field', ok: null, detail: 'the file carries no hash field' } : { name: 'hash-field', ok: statement.hash === hash, detail: statement.hash === hash ? 'content matches its hash field' : `content hashes to ${hash}, the file claims ${String(statement.hash)}` };
  if (!kind) return { ok: false, hash, checks: [hashCheck, { name: 'kind', ok: false, detail: `not a statement kind this page verifies: ${JSON.stringify(statement.kind)}` }] };
  const spec = kind.spec(statement);
  const def = kind.route.route;
  const input = { params: def.params ? def.params.parse(spec.params) : undefined, query: def.query ? def.query.parse(spec.query) : undefined, body: undefined };
  const checks = [hashCheck, ...(await verifyStatementEvidence(statement, trustFromJson(trustedJson), { kernel: new Kernel(CORES), module: kind.module, route: kind.route, input, pick: spec.pick }))];
  return { ok: checks.every((c) => c.ok !== false), hash, checks };
}

/** Route names, so a test can tell the definitions are the ones the node serves. */
export const VERIFIED_ROUTES = [settlementRoutes.bill.name, marketRoutes.bills.name];
