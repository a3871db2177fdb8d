import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { coreRoutes } from '../../../api/routes.js';
import { call, CLI_ERRORS, globals, keyringOf, parseInteger, print, signerName } from '../../../cli/kit.js';
import { signTx, type Msg, type SignedTx } from '../../../codec/tx.js';
import { LedgerError } from '../../../util/errors.js';
import { parseSlot } from '../../../util/slots.js';
import { E } from '../errors.js';
import { MSG } from '../messages.js';
import { meteringRoutes } from '../routes.js';

/**
 * Bulk work of grid operators (issue 19 #17): interval readings and official values from a CSV file,
 * one transaction per row, sent through POST /v1/txs/batch, with a progress bar on a terminal and a
 * result file that has one line per row (admission code, and with --wait the committed code).
 *
 * CSV files are plain (comma-separated, a header line, no quoting: every field is an id or a number;
 * blank lines and lines starting with # are skipped). Readings are signed by each meter's own key, which
 * must be in the keyring; official values by the --from key.
 */

/** Transactions per POST /v1/txs/batch (the route takes up to 1000; smaller batches keep the bar moving). */
export const BATCH_SIZE = 250;
/** Commit waits in flight at once with --wait. */
const WAIT_CONCURRENCY = 8;

export interface BulkRow {
  /** 1-based line in the file. */
  line: number;
  meterId: string;
  slot: number;
  /** Keyring name of the signing key, or null when none was found (the row is not sent). */
  signer: string | null;
  msg: Msg | null;
  /** Why the row was not sent (a code), when it was not. */
  skipped?: { code: string; message: string };
}

export interface RowResult {
  line: number;
  meterId: string;
  slot: number;
  hash: string | null;
  admission: string;
  result: string;
  message: string;
}

interface CsvTable {
  header: string[];
  rows: Array<{ line: number; cells: Record<string, string> }>;
}

export function parseCsv(text: string, required: readonly string[], optional: readonly string[]): CsvTable {
  const lines = text.split(/\r?\n/).map((l, i) => ({ text: l.trim(), line: i + 1 }));
  const content = lines.filter((l) => l.text.length > 0 && !l.text.startsWith('#'));
  const head = content.shift();
  if (!head) throw CLI_ERRORS.CLI_INVALID_OPTION('the CSV file is empty');
  const header = head.text.split(',').map((h) => h.trim().toLowerCase());
  const missing = required.filter((c) => !header.includes(c));
  if (missing.length > 0) throw CLI_ERRORS.CLI_INVALID_OPTION(`CSV header lacks ${missing.join(', ')} (columns: ${[...required, ...optional.map((o) => `[${o}]`)].join(',')})`);
  const unknown = header.filter((h) => !required.includes(h) && !optional.includes(h));
  if (unknown.length > 0) throw CLI_ERRORS.CLI_INVALID_OPTION(`unknown CSV column ${unknown.join(', ')}`);
  const rows = content.map(({ text: t, line }) => {
    if (t.includes('"')) throw CLI_ERRORS.CLI_INVALID_OPTION(`line ${line}: quoted fields are not supported`);
    const cells = t.split(',').map((c) => c.trim());
    if (cells.length !== header.length) throw CLI_ERRORS.CLI_INVALID_OPTION(`line ${line}: ${cells.length} fields, the header has ${header.length}`);
    return { line, cells: Object.fromEntries(header.map((h, i) => [h, cells[i]!])) };
  });
  if (rows.length === 0) throw CLI_ERRORS.CLI_INVALID_OPTION('the CSV file has no rows');
  return { header, rows };
}

function wholeNumber(cells: Record<string, string>, column: string, line: number): number | undefined {
  const v = cells[column];
  if (v === undefined || v === '') return undefined;
  return parseInteger(v, `line ${line} ${column}`);
}

function requiredNumber(cells: Record<string, string>, column: string, line: number): number {
  const v = wholeNumber(cells, column, line);
  if (v === undefined) throw CLI_ERRORS.CLI_INVALID_OPTION(`line ${line}: ${column} is empty`);
  return v;
}

function slotOf(cells: Record<string, string>, line: number): number {
  try {
    return parseSlot(cells.slot ?? '');
  } catch (e) {
    throw CLI_ERRORS.CLI_INVALID_OPTION(`line ${line}: ${e instanceof Error ? e.message : 'bad slot'}`);
  }
}

const READING_COLUMNS = ['meter', 'slot', 'import_wh', 'export_wh', 'seq'] as const;
const READING_OPTIONAL = ['import_register_wh', 'export_register_wh', 'fingerprint', 'sample_count', 'community'] as const;

/** How far back the previous registers of a meter are looked up when the file gives none. */
const REGISTER_LOOKBACK_SLOTS = 5000;

/** The readings of a CSV file as signed-by-meter rows; registers default to the previous reading's plus the interval. */
export async function readingRows(cmd: Command, file: string): Promise<BulkRow[]> {
  const table = parseCsv(readFileSync(file, 'utf8'), READING_COLUMNS, READING_OPTIONAL);
  const parsed = table.rows.map(({ line, cells }) => ({
    line,
    meterId: cells.meter!,
    slot: slotOf(cells, line),
    importWh: requiredNumber(cells, 'import_wh', line),
    exportWh: requiredNumber(cells, 'export_wh', line),
    seq: requiredNumber(cells, 'seq', line),
    importRegisterWh: wholeNumber(cells, 'import_register_wh', line),
    exportRegisterWh: wholeNumber(cells, 'export_register_wh', line),
    fingerprint: cells.fingerprint || undefined,
    sampleCount: wholeNumber(cells, 'sample_count', line),
    community: cells.community || undefined,
  }));
  const keyByAddress = new Map(keyringOf(cmd).list().map((k) => [k.address, k.name]));
  const meters = new Map<string, { signer: string | null; skipped?: { code: string; message: string } }>();
  for (const meterId of [...new Set(parsed.map((r) => r.meterId))].sort()) {
    try {
      const { meter } = await call(cmd, meteringRoutes.getMeter, { params: { meterId } });
      const signer = keyByAddress.get(meter.address) ?? null;
      meters.set(meterId, signer ? { signer } : { signer: null, skipped: { code: 'CLI_NO_METER_KEY', message: `the keyring has no key for ${meter.address}, the key of meter ${meterId}` } });
    } catch (e) {
      if (!(e instanceof LedgerError)) throw e;
      meters.set(meterId, { signer: null, skipped: { code: e.code, message: e.message } });
    }
  }
  const registers = await defaultRegisters(cmd, parsed.filter((r) => meters.get(r.meterId)!.signer !== null));
  return parsed.map((r) => {
    const m = meters.get(r.meterId)!;
    if (!m.signer) return { line: r.line, meterId: r.meterId, slot: r.slot, signer: null, msg: null, skipped: m.skipped! };
    const reg = registers.get(r.line)!;
    const value = {
      meterId: r.meterId,
      ...(r.community ? { community: r.community } : {}),
      slot: r.slot,
      importWh: r.importWh,
      exportWh: r.exportWh,
      importRegisterWh: r.importRegisterWh ?? reg.importRegisterWh,
      exportRegisterWh: r.exportRegisterWh ?? reg.exportRegisterWh,
      seq: r.seq,
      ...(r.fingerprint !== undefined ? { fingerprint: r.fingerprint } : {}),
      ...(r.sampleCount !== undefined ? { sampleCount: r.sampleCount } : {}),
    };
    return { line: r.line, meterId: r.meterId, slot: r.slot, signer: m.signer, msg: { type: MSG.reading, value } };
  });
}

/** Registers a meter gateway would send: per meter in slot order, the previous reading's registers plus each interval. */
async function defaultRegisters(cmd: Command, rows: ReadonlyArray<{ line: number; meterId: string; slot: number; importWh: number; exportWh: number }>) {
  const out = new Map<number, { importRegisterWh: number; exportRegisterWh: number }>();
  const byMeter = new Map<string, typeof rows[number][]>();
  for (const r of rows) byMeter.set(r.meterId, [...(byMeter.get(r.meterId) ?? []), r]);
  for (const [meterId, list] of byMeter) {
    const sorted = [...list].sort((a, b) => a.slot - b.slot);
    const firstSlot = sorted[0]!.slot;
    const before = await call(cmd, meteringRoutes.listReadings, {
      params: { meterId },
      query: { fromSlot: String(Math.max(0, firstSlot - REGISTER_LOOKBACK_SLOTS)), toSlot: String(firstSlot), limit: REGISTER_LOOKBACK_SLOTS },
    });
    const prev = before.readings[before.readings.length - 1];
    let imp = prev?.importRegisterWh ?? 0;
    let exp = prev?.exportRegisterWh ?? 0;
    // A repeated slot (the ledger refuses it as a duplicate) must not shift the registers of later rows.
    const seen = new Map<number, { importRegisterWh: number; exportRegisterWh: number }>();
    for (const r of sorted) {
      const first = seen.get(r.slot);
      if (first) {
        out.set(r.line, first);
        continue;
      }
      imp += r.importWh;
      exp += r.exportWh;
      const reg = { importRegisterWh: imp, exportRegisterWh: exp };
      seen.set(r.slot, reg);
      out.set(r.line, reg);
    }
  }
  return out;
}

/** Official values of a CSV file (meter,slot,import_wh,export_wh), all signed by the --from key. */
export function officialRows(cmd: Command, file: string): BulkRow[] {
  const table = parseCsv(readFileSync(file, 'utf8'), ['meter', 'slot', 'import_wh', 'export_wh'], []);
  const signer = signerName(cmd);
  return table.rows.map(({ line, cells }) => {
    const slot = slotOf(cells, line);
    const value = { meterId: cells.meter!, slot, importWh: requiredNumber(cells, 'import_wh', line), exportWh: requiredNumber(cells, 'export_wh', line) };
    return { line, meterId: value.meterId, slot, signer, msg: { type: MSG.official, value } };
  });
}

/** A progress bar of rows on a terminal (cli-progress); nothing when the stream is not a terminal (pipes, CI, -o json consumers). */
export function progressBar(total: number, stream: NodeJS.WriteStream = process.stderr): { tick(n?: number): void; stop(): void } {
  if (!stream.isTTY) return { tick: () => undefined, stop: () => undefined };
  // Loaded here, not with the module: every CLI call loads the modules' commands, few draw a bar.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress');
  const bar = new cliProgress.SingleBar({ stream, format: 'rows [{bar}] {value}/{total}', hideCursor: true }, cliProgress.Presets.shades_classic);
  bar.start(total, 0);
  return { tick: (n = 1) => bar.increment(n), stop: () => bar.stop() };
}

/**
 * Signs one transaction per row (consecutive nonces per signer, in file order), sends them in
 * batches, waits for the commits with --wait, and writes the result file. Returns the results.
 */
export async function submitRows(cmd: Command, rows: BulkRow[], resultsFile: string): Promise<RowResult[]> {
  const g = globals(cmd);
  const keyring = keyringOf(cmd);
  const status = await call(cmd, coreRoutes.status, {});
  const expiresIn = g.expiresIn !== undefined ? parseInteger(g.expiresIn, '--expires-in') : 100;
  const nonces = new Map<string, number>();
  const results: RowResult[] = rows.map((r) => ({ line: r.line, meterId: r.meterId, slot: r.slot, hash: null, admission: r.skipped?.code ?? '', result: '', message: r.skipped?.message ?? '' }));
  const toSend: Array<{ index: number; tx: SignedTx }> = [];
  for (const [index, r] of rows.entries()) {
    if (!r.msg || !r.signer) continue;
    const sender = keyring.show(r.signer).address;
    if (!nonces.has(sender)) nonces.set(sender, (await call(cmd, coreRoutes.accountNonce, { params: { address: sender } })).next);
    const nonce = nonces.get(sender)!;
    nonces.set(sender, nonce + 1);
    toSend.push({ index, tx: signTx({ chainId: status.chainId, sender, nonce, expiresAtHeight: status.height + expiresIn, msgs: [r.msg], memo: g.memo ?? '' }, keyring.signer(r.signer)) });
  }
  const bar = progressBar(rows.length * (g.wait ? 2 : 1));
  bar.tick(rows.length - toSend.length);
  try {
    for (let i = 0; i < toSend.length; i += BATCH_SIZE) {
      const batch = toSend.slice(i, i + BATCH_SIZE);
      const answer = await call(cmd, coreRoutes.submitTxBatch, { body: { txs: batch.map((b) => b.tx) } });
      answer.results.forEach((a, j) => {
        const row = results[batch[j]!.index]!;
        row.hash = a.hash;
        row.admission = a.code;
        row.message = a.message;
      });
      bar.tick(batch.length);
    }
    if (g.wait) {
      bar.tick(rows.length - toSend.length);
      const waitSeconds = g.waitSeconds !== undefined ? parseInteger(g.waitSeconds, '--wait-seconds') : 60;
      const pending = results.filter((r) => r.admission === 'OK' && r.hash);
      bar.tick(toSend.length - pending.length);
      for (let i = 0; i < pending.length; i += WAIT_CONCURRENCY) {
        await Promise.all(
          pending.slice(i, i + WAIT_CONCURRENCY).map(async (row) => {
            const res = await call(cmd, coreRoutes.getTx, { params: { hash: row.hash! }, query: { wait: Math.min(60, waitSeconds) } });
            row.result = res.status === 'committed' && res.result ? res.result.code : 'TX_NOT_COMMITTED';
            row.message = res.result?.message ?? (res.status === 'committed' ? '' : `not committed within ${waitSeconds} s`);
            bar.tick();
          }),
        );
      }
    }
  } finally {
    bar.stop();
    writeFileSync(resultsFile, resultCsv(results));
  }
  return results;
}

export function resultCsv(results: readonly RowResult[]): string {
  const clean = (s: string) => s.replace(/[\r\n]+/g, ' ').replace(/"/g, '""');
  const lines = results.map((r) => [r.line, r.meterId, r.slot, r.hash ?? '', r.admission, r.result, `"${clean(r.message)}"`].join(','));
  return ['line,meter,slot,hash,admission,result,message', ...lines].join('\n') + '\n';
}

/** Prints the summary; then fails (METER_BULK_INCOMPLETE, exit code 1) when any row was not sent, refused or (with --wait) rejected. */
export function report(cmd: Command, results: readonly RowResult[], resultsFile: string): void {
  const refused = results.filter((r) => r.admission !== 'OK').length;
  const committed = results.filter((r) => r.result !== '');
  const rejected = committed.filter((r) => r.result !== 'OK').length;
  const summary = { rows: results.length, admitted: results.length - refused, refused, committedOk: committed.length - rejected, rejected, waited: globals(cmd).wait === true, results: resultsFile };
  print(cmd, summary, (v) => `${v.rows} rows: ${v.admitted} admitted, ${v.refused} refused${v.waited ? `; ${v.committedOk} committed OK, ${v.rejected} rejected` : ' (pending; --wait waits for the commits)'}\nper-row results in ${v.results}`);
  if (refused > 0 || rejected > 0) throw E.METER_BULK_INCOMPLETE(`${refused} of ${results.length} rows not sent or refused, ${rejected} rejected at commit; see ${resultsFile}`);
}
