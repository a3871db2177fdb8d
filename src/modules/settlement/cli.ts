import type { Command } from 'commander';
import { coreRoutes } from '../../api/routes.js';
import { call, CLI_ERRORS, customCommand, jsonFilesIn, keyringOf, opt, print, queryCommand, signerAddress, signerName, txCommand, verifyGroup, type ParsedOptions } from '../../cli/kit.js';
import { signTx } from '../../codec/tx.js';
import type { StatementQuery } from '../../cli/verify.js';
import { LedgerError, remoteError } from '../../util/errors.js';
import { sharesRoutes } from '../shares/routes.js';
import type { Plant } from '../shares/keeper.js';
import { E } from './errors.js';
import { billingPeriod, billPlant } from './billing.js';
import { csvReadingSource, readJsonFile, writeStatements } from './cli/files.js';
import { MSG, type StatementRef } from './messages.js';
import { pvStatementQuery, settlementRoutes, statementKindsOf, statementOut, type StatementCheck } from './routes.js';
import { decimal, statementHash, statementsOf, type Statement, type Tariff } from './statement.js';

/**
 * The light-client statement proofs, loaded when used: src/cli/verify.ts needs the module list, which
 * loads this surface, so a static import would be a cycle (a module entry undefined at load time).
 */
const statementProofs = () => import('../../cli/verify.js');

function monthDays(month: string): { fromDay: string; toDay: string } {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m || Number(m[2]) < 1 || Number(m[2]) > 12) throw CLI_ERRORS.CLI_INVALID_OPTION(`--month expects YYYY-MM, got ${JSON.stringify(month)}`);
  const last = new Date(Date.UTC(Number(m[1]), Number(m[2]), 0)).getUTCDate();
  return { fromDay: `${month}-01`, toDay: `${month}-${String(last).padStart(2, '0')}` };
}

async function plantsOf(cmd: Command, utility: string, ids: string[] | undefined): Promise<Plant[]> {
  if (ids && ids.length > 0) return Promise.all(ids.map((plant) => call(cmd, sharesRoutes.getPlant, { params: { plant } }) as Promise<Plant>));
  const out: Plant[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await call(cmd, sharesRoutes.listPlants, { query: { utility, after, limit: 500 } });
    out.push(...(page.plants as Plant[]));
    if (page.plants.length < 500) return out;
    after = page.plants[page.plants.length - 1]!.id;
  }
}

function progress(message: string): void {
  if (process.stderr.isTTY) process.stderr.write(`${message}\n`);
}

const billOptions = {
  community: opt.text('bill the members of an energy community instead (market bills: purchases, sales, contracts, residual import and export, adjustments, reconciliation)', { arg: 'id' }),
  member: opt.address('with --community: only this member'),
  utility: opt.address('utility (default --from)'),
  plant: opt.list('only these plants (default: every plant where the utility bills someone)', { arg: 'id' }),
  month: opt.text('the local calendar month', { arg: 'YYYY-MM' }),
  fromDay: opt.text('first local day', { arg: 'YYYY-MM-DD' }),
  toDay: opt.text('last local day (inclusive; default --from-day)', { arg: 'YYYY-MM-DD' }),
  out: opt.text('output directory', { default: 'statements', arg: 'dir' }),
  dynamic: opt.flag('dynamic key: redistribute surplus to participants with remaining need first'),
  productionCsv: opt.text('dry run: production per plant and slot (plant,slot,wh)', { arg: 'file' }),
  consumptionCsv: opt.text('dry run: consumption per meter or address and slot (meter,slot,wh)', { arg: 'file' }),
  importTariff: opt.int('dry run: import tariff instead of the ledger tariff (the statements are marked dryRun and cannot be recorded)', { arg: 'µ€/kWh' }),
  feedInTariff: opt.int('dry run: feed-in tariff instead of the ledger tariff (marked dryRun, not recordable)', { arg: 'µ€/kWh' }),
  prove: opt.flag('attach to each statement the proofs of every ledger value it used, against a committed header (needs --trusted); customers check them offline with `verify statement --offline`'),
  trusted: opt.text('with --prove: the trusted genesis.json or saved trusted state the headers start from', { arg: 'file' }),
};
type BillOptions = ParsedOptions<typeof billOptions>;

/** `bill --community`: handed to the statement kind that bills communities (the market module). */
async function billCommunity(opts: BillOptions, cmd: Command, fromDay: string, toDay: string): Promise<void> {
  const biller = statementKindsOf(cmd).find((k) => k.billCommunity);
  if (!biller) throw CLI_ERRORS.CLI_INVALID_OPTION('no module of this build bills communities');
  if (opts.plant || opts.utility || opts.dynamic || opts.productionCsv || opts.consumptionCsv || opts.importTariff !== undefined || opts.feedInTariff !== undefined) {
    throw CLI_ERRORS.CLI_INVALID_OPTION('--community bills from ledger data with the community tariffs; the plant, utility, dynamic and CSV options do not apply');
  }
  await biller.billCommunity!({ community: opts.community!, fromDay, toDay, out: opts.out ?? 'statements', ...(opts.member ? { member: opts.member } : {}), ...(opts.prove ? { trusted: opts.trusted! } : {}) }, cmd);
}

async function bill(opts: BillOptions, cmd: Command): Promise<void> {
  const { fromDay, toDay } = opts.month ? monthDays(opts.month) : { fromDay: opts.fromDay, toDay: opts.toDay ?? opts.fromDay };
  if (!fromDay || !toDay) throw CLI_ERRORS.CLI_INVALID_OPTION('give --month YYYY-MM or --from-day (and --to-day)');
  if (opts.prove && !opts.trusted) throw CLI_ERRORS.CLI_INVALID_OPTION('--prove needs --trusted FILE (a genesis.json or a saved trusted state)');
  if (opts.community !== undefined) return billCommunity(opts, cmd, fromDay, toDay);
  if (opts.member !== undefined) throw CLI_ERRORS.CLI_INVALID_OPTION('--member goes with --community');
  const utility = opts.utility ?? signerAddress(cmd);
  const csv = opts.productionCsv !== undefined || opts.consumptionCsv !== undefined;
  if (csv && opts.prove) throw CLI_ERRORS.CLI_INVALID_OPTION('--prove applies to ledger data; CSV meter data is not on the ledger');
  if (csv && (!opts.productionCsv || !opts.consumptionCsv)) throw CLI_ERRORS.CLI_INVALID_OPTION('a CSV dry run needs both --production-csv and --consumption-csv');
  if ((opts.importTariff === undefined) !== (opts.feedInTariff === undefined)) throw CLI_ERRORS.CLI_INVALID_OPTION('give both --import-tariff and --feed-in-tariff, or neither');
  if (!csv && opts.importTariff !== undefined) throw CLI_ERRORS.CLI_INVALID_OPTION('tariff options apply to CSV dry runs; ledger billing uses the tariffs recorded on the ledger');
  const source = csv ? csvReadingSource(opts.productionCsv!, opts.consumptionCsv!) : undefined;
  const plants = await plantsOf(cmd, utility, opts.plant);
  const statements: Statement[] = [];
  let ledgerTariffs: Awaited<ReturnType<typeof call<typeof settlementRoutes.tariffs>>>['tariffs'] | undefined;
  for (const [i, plant] of plants.entries()) {
    progress(`billing ${plant.id} (${i + 1}/${plants.length})`);
    if (!source) {
      const res = await call(cmd, settlementRoutes.bill, { params: { plant: plant.id }, query: { fromDay, toDay, utility, dynamic: opts.dynamic ? 'true' : 'false' } });
      if (!opts.prove) statements.push(...(res.statements as Statement[]));
      // With --prove each customer's statement is asked for again, alone: its proof then holds only the values it used.
      else for (const s of res.statements as Statement[]) statements.push(await (await statementProofs()).proveStatement<Statement & Record<string, unknown>>(cmd, opts.trusted!, pvStatementQuery(s)));
      continue;
    }
    const period = billingPeriod(plant.timezone, fromDay, toDay);
    const seg = await call(cmd, sharesRoutes.plantSegments, { params: { plant: plant.id }, query: { fromSlot: period.fromSlot, toSlot: period.toSlot } });
    const billing = billPlant({ plant, period, holdings: seg.holdings, source, dynamic: Boolean(opts.dynamic) });
    let tariff: Tariff;
    if (opts.importTariff !== undefined) {
      tariff = { importMicroEurPerKwh: opts.importTariff, feedInMicroEurPerKwh: opts.feedInTariff! };
      if (tariff.importMicroEurPerKwh < 0 || tariff.feedInMicroEurPerKwh < 0) throw CLI_ERRORS.CLI_INVALID_OPTION('tariffs are non-negative µ€ per kWh');
    } else {
      ledgerTariffs ??= (await call(cmd, settlementRoutes.tariffs, { params: { utility } })).tariffs;
      const t = [...ledgerTariffs].reverse().find((x) => x.fromSlot <= period.fromSlot);
      if (!t) throw E.SETTLEMENT_NO_TARIFF(`utility ${utility} has no tariff in force at slot ${period.fromSlot}; pass --import-tariff and --feed-in-tariff`);
      tariff = t;
    }
    statements.push(...statementsOf(billing, () => tariff, { utility, source: 'csv', dryRun: opts.importTariff !== undefined }));
  }
  const written = writeStatements(opts.out ?? 'statements', utility, statements);
  const total = statements.reduce((a, s) => a + s.amountMicroEur.total, 0);
  const dryRun = opts.importTariff !== undefined;
  print(
    cmd,
    { utility, fromDay, toDay, source: source ? 'csv' : 'ledger', ...(dryRun ? { dryRun: true } : {}), allocation: opts.dynamic ? 'dynamic' : 'static', plants: plants.length, dir: written.dir, summary: written.summary, totalMicroEur: total, statements: written.files },
    (v) =>
      [
        `${v.statements.length} statements for ${v.plants} plants (${fromDay} … ${toDay}, ${v.source}, ${v.allocation}) in ${v.dir}`,
        `summary ${v.summary}`,
        `total ${decimal(total, 6)} €`,
        ...(dryRun ? ['DRY RUN: tariffs typed on the command line; the statements are marked dryRun and cannot be recorded'] : []),
      ].join('\n'),
  );
}

function parseStatement(file: string): Statement {
  const parsed = statementOut.safeParse(readJsonFile(file));
  if (!parsed.success) throw E.STATEMENT_INVALID(`${file} is not a GridLedger PV statement: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data as Statement;
}

/** Signs and submits the statement hashes in transactions of at most 150 statements, waiting for each commit. */
async function record(paths: string[], cmd: Command): Promise<void> {
  const files = jsonFilesIn(paths);
  if (files.length === 0) throw CLI_ERRORS.CLI_INVALID_ARGUMENT('no statement .json files found');
  const refs: StatementRef[] = files.map((file) => {
    const s = parseStatement(file);
    const hash = statementHash(s);
    if (s.hash !== undefined && s.hash !== hash) throw E.STATEMENT_HASH_MISMATCH(`${file}: the hash field does not match the content`);
    // Checked for every file before anything is signed: one dry run among them records none.
    if (s.dryRun) throw E.STATEMENT_DRY_RUN(`${file} is a dry run (tariffs typed on the command line, not the utility's tariffs on the ledger); bill with the ledger tariffs to record statements`);
    return { plant: s.plant, customer: s.customer, fromSlot: s.period.fromSlot, toSlot: s.period.toSlot, hash };
  });
  const signer = keyringOf(cmd).signer(signerName(cmd));
  const sender = signerAddress(cmd);
  const status = await call(cmd, coreRoutes.status, {});
  let nonce = (await call(cmd, coreRoutes.accountNonce, { params: { address: sender } })).next;
  const txs: Array<{ hash: string; height: number | null; code: string; statements: number }> = [];
  for (let i = 0; i < refs.length; i += 150) {
    const chunk = refs.slice(i, i + 150);
    const tx = signTx({ chainId: status.chainId, sender, nonce, expiresAtHeight: status.height + 100, msgs: [{ type: MSG.recordStatements, value: { statements: chunk } }], memo: '' }, signer);
    nonce++;
    const { hash } = await call(cmd, coreRoutes.submitTx, { body: tx });
    const res = await call(cmd, coreRoutes.getTx, { params: { hash }, query: { wait: 30 } });
    const code = res.result?.code ?? 'NOT_COMMITTED';
    txs.push({ hash, height: res.height ?? null, code, statements: chunk.length });
    if (code !== 'OK') throw remoteError(code === 'NOT_COMMITTED' ? 'TX_NOT_COMMITTED' : code, `${res.result?.message ?? 'not committed within 30 s'} (tx ${hash}; ${i} statements recorded before it)`, 400);
  }
  print(cmd, { recorded: refs.length, txs, hashes: refs.map((r) => r.hash) }, (v) => `recorded ${v.recorded} statement hashes in ${v.txs.length} transaction(s)`);
}

type Check = StatementCheck;

function report(cmd: Command, file: string, hash: string, checks: Check[]): void {
  const ok = checks.every((c) => c.ok !== false);
  print(cmd, { file, hash, ok, checks }, (v) => [`${v.ok ? 'VALID' : 'INVALID'}  ${file}`, `hash ${hash}`, ...v.checks.map((c: Check) => `  ${c.ok === null ? 'skip' : c.ok ? ' ok ' : 'FAIL'}  ${c.name}: ${c.detail}`)].join('\n'));
  if (!ok) throw E.STATEMENT_NOT_VERIFIED(`${file} did not verify: ${checks.filter((c) => c.ok === false).map((c) => c.name).join(', ')}`);
}

function hashFieldCheck(claimed: unknown, hash: string): Check {
  if (claimed === undefined) return { name: 'hash-field', ok: null, detail: 'the file carries no hash field' };
  return { name: 'hash-field', ok: claimed === hash, detail: claimed === hash ? 'content matches its hash field' : `content hashes to ${hash}, the file claims ${String(claimed)}` };
}

/** A statement of another module's kind: the hash here, the ledger checks by the kind. */
async function verifyOtherKind(file: string, cmd: Command): Promise<boolean> {
  const raw = readJsonFile(file);
  const kindName = raw !== null && typeof raw === 'object' ? (raw as { kind?: unknown }).kind : undefined;
  const kind = statementKindsOf(cmd).find((k) => k.kind === kindName);
  if (!kind) return false;
  const statement = raw as Record<string, unknown>;
  const hash = statementHash(statement);
  report(cmd, file, hash, [hashFieldCheck(statement.hash, hash), ...(await kind.verify(statement, hash, cmd))]);
  return true;
}

/**
 * `verify statement FILE --offline --trusted FILE`: no node is asked. The statement's evidence is
 * checked from the trusted genesis or header and the statement recomputed from the proven values.
 */
async function verifyOffline(file: string, trusted: string | undefined, cmd: Command): Promise<void> {
  if (!trusted) throw CLI_ERRORS.CLI_INVALID_OPTION('--offline needs --trusted FILE (a genesis.json or a saved trusted state)');
  const raw = readJsonFile(file);
  if (raw === null || typeof raw !== 'object') throw E.STATEMENT_INVALID(`${file} is not a statement`);
  const statement = raw as Record<string, unknown>;
  const kind = statementKindsOf(cmd).find((k) => k.kind === statement.kind);
  let spec: StatementQuery;
  if (kind?.statementQuery) spec = kind.statementQuery(statement);
  else {
    const s = parseStatement(file);
    if (s.source !== 'ledger') throw E.STATEMENT_INVALID(`${file} was computed from CSV meter data, which is not on the ledger: nothing to prove`);
    spec = pvStatementQuery(s);
  }
  const hash = statementHash(statement);
  report(cmd, file, hash, [hashFieldCheck(statement.hash, hash), ...(await (await statementProofs()).verifyStatementOffline(statement, trusted, spec))]);
}

async function verifyStatement(file: string, cmd: Command, opts: { offline?: boolean; trusted?: string } = {}): Promise<void> {
  if (opts.offline) return verifyOffline(file, opts.trusted, cmd);
  if (await verifyOtherKind(file, cmd)) return;
  const s = parseStatement(file);
  const hash = statementHash(s);
  const checks: Check[] = [];
  checks.push(hashFieldCheck(s.hash, hash));
  let onLedger: Check;
  try {
    const r = await call(cmd, settlementRoutes.statement, { params: { hash } });
    const same = r.record.plant === s.plant && r.record.customer === s.customer && r.record.fromSlot === s.period.fromSlot && r.record.toSlot === s.period.toSlot && r.record.utility === s.utility;
    onLedger = !same
      ? { name: 'recorded', ok: false, detail: 'the recorded hash belongs to a different plant, customer, utility or period' }
      : r.superseded
        ? { name: 'recorded', ok: false, detail: `recorded at height ${r.record.height} (revision ${r.record.revision}) but superseded by ${r.latest.hash} (revision ${r.latest.revision})` }
        : { name: 'recorded', ok: true, detail: `recorded by ${r.record.utility} at height ${r.record.height} in tx ${r.record.txHash} (revision ${r.record.revision})` };
  } catch (e) {
    if (!(e instanceof LedgerError) || e.code !== 'SETTLEMENT_UNKNOWN_STATEMENT') throw e;
    onLedger = { name: 'recorded', ok: false, detail: `no statement with hash ${hash} is recorded on the ledger` };
  }
  checks.push(onLedger);
  if (s.dryRun) checks.push({ name: 'dry-run', ok: false, detail: 'a dry run: its tariffs were typed on the command line, not taken from the ledger' });
  if (s.source === 'ledger') {
    const res = await call(cmd, settlementRoutes.bill, {
      params: { plant: s.plant },
      query: { fromDay: s.period.fromDay, toDay: s.period.toDay, utility: s.utility, customer: s.customer, dynamic: s.allocation === 'dynamic' ? 'true' : 'false' },
    });
    const again = res.statements.find((x) => x.customer === s.customer && x.utility === s.utility);
    const againHash = again ? statementHash(again) : undefined;
    checks.push({ name: 'recomputed', ok: againHash === hash, detail: againHash === hash ? 'recomputed from ledger data: identical' : `recomputed from ledger data: ${againHash ?? 'no statement'} differs` });
  } else {
    checks.push({ name: 'recomputed', ok: null, detail: 'computed from CSV meter data, which is not on the ledger; not recomputed' });
  }
  report(cmd, file, hash, checks);
}

export function registerSettlementCli({ tx, query }: { tx: Command; query: Command }): void {
  const txSet = tx.command('settlement').description('tariffs and statement hashes (utilities)');
  txCommand(txSet, 'set-tariff', {
    description: 'announce your tariffs (µ€ per kWh) from a future slot on',
    options: {
      importTariff: opt.int('price of grid import', { required: true, signed: true, arg: 'µ€/kWh' }),
      feedInTariff: opt.int('credit for fed-in surplus', { required: true, signed: true, arg: 'µ€/kWh' }),
      fromSlot: opt.slot('first slot (index or ISO time; must not have begun)', { required: true, future: true }),
    },
    msgs: (o) => [{ type: MSG.setTariff, value: { importMicroEurPerKwh: o.importTariff, feedInMicroEurPerKwh: o.feedInTariff, fromSlot: o.fromSlot } }],
  });
  customCommand(txSet, 'record', {
    description: 'record the hashes of statement JSON files (or directories of them) on the ledger',
    args: ['paths...'],
    run: (_o, cmd, paths) => record(paths, cmd),
  });

  const qSet = query.command('settlement').description('tariffs and recorded statements');
  queryCommand(qSet, 'tariffs', {
    description: "a utility's tariff versions",
    options: { utility: opt.address('utility (default --from)') },
    route: settlementRoutes.tariffs,
    input: (o, _args, cmd) => ({ params: { utility: o.utility ?? signerAddress(cmd) } }),
    text: (v) => v.tariffs.map((t) => `from slot ${t.fromSlot}: import ${t.importMicroEurPerKwh} µ€/kWh, feed-in ${t.feedInMicroEurPerKwh} µ€/kWh`).join('\n') || '(none)',
  });
  queryCommand(qSet, 'statement', {
    description: 'a statement hash recorded on the ledger',
    options: { hash: opt.text('statement hash', { required: true, arg: 'hex' }) },
    route: settlementRoutes.statement,
    input: (o) => ({ params: { hash: o.hash } }),
    text: (v) => `${v.record.hash}\n  ${v.record.plant} ${v.record.customer} slots [${v.record.fromSlot}, ${v.record.toSlot}) by ${v.record.utility} at height ${v.record.height}, revision ${v.record.revision}${v.superseded ? ' (superseded)' : ''}`,
  });

  const program = tx.parent!;
  customCommand(program, 'bill', {
    description: 'compute PV statements of a utility (or, with --community, the market bills of a community) for a period and write them as JSON and CSV (ledger data, or CSV meter data for a PV dry run)',
    options: billOptions,
    run: (o, cmd) => bill(o, cmd),
  });
  const verify = verifyGroup(program);
  customCommand(verify, 'statement', {
    description: 'check a statement file (a PV statement or a community bill): its hash, its record on the ledger, and a recomputation from ledger data; with --offline, its proofs from a trusted genesis or header without asking any node',
    args: ['file'],
    options: {
      offline: opt.flag('ask no node: check the statement\'s evidence (from `bill --prove`) and recompute it from the proven ledger values'),
      trusted: opt.text('with --offline: the trusted genesis.json or saved trusted state', { arg: 'file' }),
    },
    run: (o, cmd, [file]) => verifyStatement(file!, cmd, o),
  });
}
