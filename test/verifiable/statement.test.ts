import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { promisify } from 'node:util';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callRoute } from '../../src/api/client.js';
import { coreRoutes } from '../../src/api/routes.js';
import { signTx, type SignedTx } from '../../src/codec/tx.js';
import { openKeyring, paths } from '../../src/home/home.js';
import { realTimers } from '../../src/runtime/driver.js';
import { startNode, type RunningNode } from '../../src/runtime/service.js';
import { nextDay } from '../../src/modules/settlement/keeper.js';
import { dayOfSlot, localDay } from '../../src/util/localtime.js';
import { SLOT_MS } from '../../src/util/slots.js';
import { makeHome } from '../helpers/node.js';

const run = promisify(execFile);

type BrowserVerifier = typeof import('../../web/src/lib/verify-statement.js');

/** Bundles web/src/lib/verify-statement.ts as the dashboard's build does (node:crypto, node:fs and node:module aliased to the page's shims), for the browser. */
async function bundleBrowserVerifier(dir: string): Promise<BrowserVerifier> {
  const web = resolve('web/src');
  const result = await build({
    entryPoints: [join(web, 'lib/verify-statement.ts')],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    metafile: true,
    logLevel: 'silent',
    alias: { 'node:crypto': join(web, 'shims/node-crypto.ts'), 'node:fs': join(web, 'shims/node-fs.ts'), 'node:module': join(web, 'shims/node-module.ts') },
    // vite's `?raw` imports (the time-zone table's exact bytes), as the dashboard build resolves them
    plugins: [
      {
        name: 'raw',
        setup(b) {
          b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.slice(0, -4)), namespace: 'raw' }));
          b.onLoad({ filter: /.*/, namespace: 'raw' }, (a) => ({ contents: readFileSync(a.path, 'utf8'), loader: 'text' }));
        },
      },
    ],
  });
  const imports = Object.values(result.metafile.inputs).flatMap((i) => i.imports.map((x) => x.path));
  expect(imports.filter((p) => p.startsWith('node:') || /^(fs|crypto|path|os|child_process|worker_threads)$/.test(p))).toEqual([]);
  expect(Object.values(result.metafile.outputs)[0]!.imports).toEqual([]); // nothing left to resolve at run time
  const file = join(dir, 'verify-statement.browser.mjs');
  writeFileSync(file, result.outputFiles[0]!.text);
  return (await import(pathToFileURL(file).href)) as BrowserVerifier;
}
const TZ = 'Europe/Oslo';

/**
 * Customer-verifiable bills (issue 17 #4): a community bill written with `bill --prove` verifies with
 * `verify statement --offline --trusted genesis.json` after the node has stopped; one altered Wh, one
 * altered µ amount and one altered proven reading each fail, naming the value.
 */
describe('a community bill with evidence verifies offline', () => {
  let home: string;
  let node: RunningNode | undefined;
  let accounts: Record<string, string>;
  let out: string;
  let url: string;
  const clock = { offset: 0 };
  const now = () => Date.now() + clock.offset;

  beforeAll(async () => {
    const made = makeHome({ bank: ['issuer'], bob: ['consumer'], cm: ['meter'] });
    home = made.home;
    accounts = made.init.accounts;
    out = mkdtempSync(join(tmpdir(), 'gridledger-proven-bills-'));
    node = await startNode(home, { apiPort: 0, logger: pino({ level: 'silent' }), timers: { ...realTimers, now } });
    url = node.url;
  });
  afterAll(async () => {
    await node?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
    if (out) rmSync(out, { recursive: true, force: true });
  });

  async function cli(...args: string[]): Promise<{ code: number; json: any; stderr: string }> {
    try {
      const { stdout, stderr } = await run('node', ['bin/gridledger.mjs', '--home', home, '--node', url, '-o', 'json', ...args], { cwd: process.cwd() });
      return { code: 0, json: JSON.parse(stdout), stderr };
    } catch (e) {
      const err = e as { code: number; stdout: string; stderr: string };
      return { code: err.code, json: err.stdout.trim() ? JSON.parse(err.stdout) : undefined, stderr: err.stderr };
    }
  }
  const status = () => callRoute(url, coreRoutes.status, {});

  async function jumpTo(ms: number): Promise<void> {
    clock.offset = Math.max(clock.offset, ms - Date.now());
    for (let i = 0; i < 600; i++) {
      if ((await status()).latestBlockTime >= ms) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no block after the clock moved');
  }

  async function submit(from: string, msgsList: Array<Array<{ type: string; value: Record<string, unknown> }>>): Promise<void> {
    const keyring = openKeyring(home, 'test');
    const address = keyring.show(from).address;
    const { chainId, height } = await status();
    let { next } = await callRoute(url, coreRoutes.accountNonce, { params: { address } });
    const txs: SignedTx[] = msgsList.map((msgs) => signTx({ chainId, sender: address, nonce: next++, expiresAtHeight: height + 1000, msgs, memo: '' }, keyring.signer(from)));
    const admitted = await callRoute(url, coreRoutes.submitTxBatch, { body: { txs } });
    expect(admitted.results.map((r) => r.code)).toEqual(txs.map(() => 'OK'));
    for (const r of admitted.results) {
      const res = await callRoute(url, coreRoutes.getTx, { params: { hash: r.hash! }, query: { wait: 60 } });
      expect(res.result?.code, res.result?.message).toBe('OK');
    }
  }

  it('bills with --prove, verifies offline with the node stopped, and names an altered Wh, µ amount or reading', async () => {
    const B = accounts.bob!;
    await submit('admin', [
      [
        { type: 'energy/create-community', value: { id: 'tundal', name: 'Tundal microgrid', timezone: TZ } },
        { type: 'energy/add-trader', value: { community: 'tundal', address: B } },
        { type: 'energy/add-meter', value: { community: 'tundal', meterId: 'C1', address: accounts.cm!, kind: 'consumer', trader: B, maxPowerW: 20_000 } },
      ],
    ]);
    await submit('bank', [[{ type: 'payments/create-asset', value: { code: 'NOK', scope: 'tundal', name: 'tundal kroner' } }]]);
    const opened = await cli('--from', 'admin', '--wait', 'tx', 'market', 'open', '--community', 'tundal', '--type', 'continuous', '--asset', 'NOK@tundal', '--import-price', '2000000', '--export-price', '500000');
    expect(opened.json?.result?.code, opened.stderr).toBe('OK');
    const slot0 = Math.floor((await status()).latestBlockTime / SLOT_MS);
    const day = nextDay(dayOfSlot(TZ, slot0));
    const { firstSlot, slots } = localDay(TZ, day);
    await jumpTo((firstSlot + slots) * SLOT_MS + 60_000);
    // twelve slots of imports by the consumer's meter
    let register = 0;
    const readings = Array.from({ length: 12 }, (_, i) => {
      const importWh = 300 + i * 17;
      const value = { meterId: 'C1', slot: firstSlot + i, importWh, exportWh: 0, importRegisterWh: register + importWh, exportRegisterWh: 0, seq: i + 1 };
      register += importWh;
      return [{ type: 'metering/reading', value }];
    });
    await submit('cm', readings);

    const genesis = paths(home).genesis;
    const written = await cli('--from', 'admin', 'bill', '--community', 'tundal', '--from-day', day, '--to-day', day, '--out', out, '--prove', '--trusted', genesis);
    expect(written.code, written.stderr).toBe(0);
    const file = written.json.bills.find((b: { member: string }) => b.member === B).json as string;
    const bill = JSON.parse(readFileSync(file, 'utf8'));
    expect(bill.energyWh.meteredImport).toBe(register);
    expect(bill.evidence.proof.state.entries.length).toBeGreaterThan(12);
    expect(bill.evidence.headers.length).toBeGreaterThan(0);

    // the node stops: everything from here on is offline
    await node!.stop();
    node = undefined;
    const ok = await cli('verify', 'statement', file, '--offline', '--trusted', genesis);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json.checks.map((c: { name: string; ok: boolean | null }) => [c.name, c.ok])).toEqual([
      ['hash-field', true],
      ['headers', true],
      ['proof', true],
      ['recomputed', true],
    ]);

    const failing = async (name: string, mutate: (b: any) => void) => {
      const copy = structuredClone(bill);
      mutate(copy);
      const path = join(out, `${name}.json`);
      writeFileSync(path, JSON.stringify(copy, null, 2));
      const res = await cli('verify', 'statement', path, '--offline', '--trusted', genesis);
      expect(res.code).toBe(1);
      expect(JSON.parse(res.stderr).error.code).toBe('STATEMENT_NOT_VERIFIED');
      return res.json.checks as Array<{ name: string; ok: boolean | null; detail: string }>;
    };
    const line = bill.lines.findIndex((l: { item: string }) => l.item === 'residual-import');
    expect(line).toBeGreaterThanOrEqual(0);
    const wh = await failing('wh', (b) => (b.lines[line].wh += 1));
    expect(wh.find((c) => c.name === 'recomputed')).toMatchObject({ ok: false, detail: `lines[${line}].wh: the statement says ${bill.lines[line].wh + 1}, the proven ledger data give ${bill.lines[line].wh}` });
    const micro = await failing('micro', (b) => (b.totals.totalMicro = String(BigInt(b.totals.totalMicro) - 1n)));
    expect(micro.find((c) => c.name === 'recomputed')?.detail).toBe(`totals.totalMicro: the statement says "${BigInt(bill.totals.totalMicro) - 1n}", the proven ledger data give "${bill.totals.totalMicro}"`);
    // an altered reading in the proof no longer hashes to the signed state root
    const reading = await failing('reading', (b) => {
      // the meter's day row packs [slot offset, import Wh, export Wh]; the first reading imported 300 Wh
      const entry = b.evidence.proof.state.entries.find((e: { key: string }) => e.key.startsWith('metering/series/C1/'));
      expect(entry.value).toContain(',300,0]');
      entry.value = entry.value.replace(',300,0]', ',299,0]');
    });
    expect(reading.find((c) => c.name === 'proof')).toMatchObject({ ok: false });
    expect(reading.find((c) => c.name === 'proof')!.detail).toMatch(/^PROOF_INVALID/);
    // a bill without evidence is refused offline
    const bare = await failing('bare', (b) => delete b.evidence);
    expect(bare.find((c) => c.name === 'evidence')).toMatchObject({ ok: false });

    // the dashboard's verifier, bundled for the browser (no node: API may remain), gives the same verdicts
    const bundle = await bundleBrowserVerifier(out);
    const trusted = JSON.parse(readFileSync(genesis, 'utf8'));
    const inBrowser = await bundle.verifyStatementInBrowser(bill, trusted);
    expect(inBrowser.checks.map((c) => [c.name, c.ok]), JSON.stringify(inBrowser.checks)).toEqual([['hash-field', true], ['headers', true], ['proof', true], ['recomputed', true]]);
    expect(inBrowser.ok).toBe(true);
    const altered = structuredClone(bill);
    altered.lines[line].wh += 1;
    const refused = await bundle.verifyStatementInBrowser(altered, trusted);
    expect(refused.ok).toBe(false);
    expect(refused.checks.find((c) => c.name === 'recomputed')?.detail).toBe(`lines[${line}].wh: the statement says ${bill.lines[line].wh + 1}, the proven ledger data give ${bill.lines[line].wh}`);
    const forged = structuredClone(bill);
    const sig: string = forged.evidence.headers.at(-1).commit.signatures[0].signature;
    forged.evidence.headers.at(-1).commit.signatures[0].signature = (sig[0] === '0' ? '1' : '0') + sig.slice(1);
    expect((await bundle.verifyStatementInBrowser(forged, trusted)).checks.find((c) => c.name === 'headers')).toMatchObject({ ok: false });
  }, 240_000);
});
