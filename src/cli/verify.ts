import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { Kernel } from '../app/kernel.js';
import { DEFAULT_TRUST_PERIOD_MS, LightClient, trustFromJson } from '../light/client.js';
import { verifyStatementEvidence, type EvidenceCheck, type StatementEvidence, type StatementReplay } from '../light/statement.js';
import { MODULES } from '../modules/index.js';
import { addressSchema } from '../codec/tx.js';
import { call, CLI_ERRORS, nodeUrl, print, resolveAddress, verifyGroup } from './kit.js';

/**
 * `gridledger verify query ROUTE [name=value …] --trusted FILE`: asks the node for a proven answer,
 * follows the chain from the trusted genesis or header to the answer's height with the light client,
 * re-runs the query over the proven state, and prints the answer only if everything checks.
 */

export function readTrusted(file: string) {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`--trusted ${file}: ${(e as Error).message}`);
  }
  return trustFromJson(json);
}

/** The module route with this name (its `name` in the route definition, e.g. getAccount). */
export function findRoute(name: string) {
  for (const m of MODULES) {
    const r = (m.surface.routes ?? []).find((x) => x.route.name === name);
    if (r) return { module: m.core.name, entry: r };
  }
  throw CLI_ERRORS.CLI_INVALID_ARGUMENT(`no module query route named ${JSON.stringify(name)} (see operationId in /v1/openapi.json)`);
}

/** name=value arguments: path parameters by name, the rest query parameters. */
function splitArgs(path: string, args: string[]): { params: Record<string, string>; query: Record<string, string> } {
  const params: Record<string, string> = {};
  const query: Record<string, string> = {};
  const pathNames = new Set([...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1]!));
  for (const a of args) {
    const i = a.indexOf('=');
    if (i <= 0) throw CLI_ERRORS.CLI_INVALID_ARGUMENT(`expected name=value, got ${JSON.stringify(a)}`);
    (pathNames.has(a.slice(0, i)) ? params : query)[a.slice(0, i)] = a.slice(i + 1);
  }
  return { params, query };
}

interface SchemaLike {
  shape?: Record<string, unknown>;
}

/** Is this field of a route's params or query an address (possibly optional)? */
function isAddressField(schema: unknown, name: string): boolean {
  let field = (schema as SchemaLike | undefined)?.shape?.[name] as { unwrap?: () => unknown } | undefined;
  while (field !== undefined && field !== addressSchema && typeof field.unwrap === 'function') field = field.unwrap() as typeof field;
  return field === addressSchema;
}

/** Key names given for address parameters (`address=alice`) become addresses, as everywhere else. */
function resolveAddressFields(cmd: Command, schema: unknown, values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, isAddressField(schema, k) ? resolveAddress(cmd, v, k) : v]));
}

export function registerVerifyCli(program: Command): void {
  const verify = verifyGroup(program);
  verify
    .command('query')
    .description('a module query answered with a proof, checked by the light client from a trusted genesis or header')
    .argument('<route>', 'route name (operationId), e.g. getAccount')
    .argument('[args...]', 'name=value: path and query parameters')
    .requiredOption('--trusted <file>', 'trusted genesis.json, or a trusted state written by --save-trust')
    .option('--trust-period-hours <n>', 'how long a trusted header stays usable', String(DEFAULT_TRUST_PERIOD_MS / 3_600_000))
    .option('--save-trust <file>', 'write the verified state reached, to start from next time')
    .action(async (routeName: string, args: string[], opts: { trusted: string; trustPeriodHours: string; saveTrust?: string }, cmd: Command) => {
      const { module, entry } = findRoute(routeName);
      const split = splitArgs(entry.route.path, args);
      const params = resolveAddressFields(cmd, entry.route.params, split.params);
      const query = resolveAddressFields(cmd, entry.route.query, split.query);
      const parse = (schema: { parse(v: unknown): unknown } | undefined, v: unknown) => (schema ? schema.parse(v) : undefined);
      const input = { params: parse(entry.route.params, params), query: parse(entry.route.query, query), body: undefined };
      const client = new LightClient({ nodeUrl: nodeUrl(cmd), trusted: readTrusted(opts.trusted), trustPeriodMs: Number(opts.trustPeriodHours) * 3_600_000 });
      const kernel = new Kernel(MODULES.map((m) => m.core));
      const answer = await client.query(entry.route, { params, query }, { kernel, module, route: entry, input });
      if (opts.saveTrust) writeFileSync(opts.saveTrust, JSON.stringify(client.trusted, null, 2) + '\n');
      print(cmd, { verified: true, height: answer.height, stateRoot: answer.header.stateRoot, headersChecked: answer.path, value: answer.value }, (v) =>
        [`VERIFIED at height ${v.height} (state root ${v.stateRoot}; headers checked: ${v.headersChecked.join(', ') || 'none'})`, JSON.stringify(v.value, null, 2)].join('\n'),
      );
    });
}

// ── statements with evidence (issue 17 #4) ──

/** Which query computed a statement, with what input, and how to find the statement in the answer. */
export interface StatementQuery {
  route: string;
  params: Record<string, string>;
  query: Record<string, string>;
  pick(answer: unknown): Record<string, unknown> | undefined;
}

function replayOf(spec: StatementQuery): StatementReplay {
  const { module, entry } = findRoute(spec.route);
  const parse = (schema: { parse(v: unknown): unknown } | undefined, v: unknown) => (schema ? schema.parse(v) : undefined);
  const input = { params: parse(entry.route.params, spec.params), query: parse(entry.route.query, spec.query), body: undefined };
  return { kernel: new Kernel(MODULES.map((m) => m.core)), module, route: entry, input, pick: spec.pick };
}

/**
 * Asks the node for the statement's query with a proof, verifies it with the light client from the
 * trusted genesis or header, and returns the statement with its evidence attached (the hash unchanged).
 */
export async function proveStatement<T extends Record<string, unknown>>(cmd: Command, trustedFile: string, spec: StatementQuery): Promise<T & { evidence: StatementEvidence }> {
  const replay = replayOf(spec);
  const client = new LightClient({ nodeUrl: nodeUrl(cmd), trusted: readTrusted(trustedFile), callRoute: (route, input) => call(cmd, route, input as never) });
  const { value, evidence } = await client.evidence(replay.route.route, { params: spec.params, query: spec.query }, replay);
  const statement = spec.pick(value);
  if (!statement) throw CLI_ERRORS.CLI_ERROR(`the proven answer of ${spec.route} holds no such statement`);
  return { ...(statement as T), evidence };
}

/** The offline checks of a statement's evidence from a trusted genesis or header file; no node is asked. */
export async function verifyStatementOffline(statement: Record<string, unknown>, trustedFile: string, spec: StatementQuery): Promise<EvidenceCheck[]> {
  return verifyStatementEvidence(statement, readTrusted(trustedFile), replayOf(spec));
}
