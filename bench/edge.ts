import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { pino } from 'pino';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx } from '../src/codec/tx.js';
import { EdgeAgent } from '../src/edge/agent/agent.js';
import { parseAgentConfig } from '../src/edge/agent/config.js';
import { openKeyring, paths } from '../src/home/home.js';
import { initHome } from '../src/runtime/init.js';
import { deriveInterval } from '../src/edge/interval.js';
import { P1Framer } from '../src/edge/p1/framer.js';
import { parseTelegram } from '../src/edge/p1/parser.js';
import { replayTelegrams } from '../src/edge/p1/replay.js';
import { sampleFromTelegram, sha256Hex, type MeterSample } from '../src/edge/sample.js';
import { SampleStore } from '../src/edge/store.js';
import { verifySamples } from '../src/edge/verify.js';
import type { OnChainFingerprint } from '../src/edge/verify.js';
import { pinCompiledCode } from '../scripts/lib/cluster.js';

/**
 * Meter edge benchmark (one process, one core): P1 parsing, sample ingestion into the SQLite store
 * (WAL, synchronous=FULL, so every transaction is an fsync) and fingerprint verification.
 *
 * - telegramsParsedPerSec: parseTelegram on replayed DSMR 5 telegrams (≈ 890 bytes each).
 * - framedTelegramsPerSec / framerMBPerSec: the same bytes through the stream framer (framing + parsing).
 * - samplesPerSecBatched: an agent with `meters` meters at 1 telegram/s/meter writes each second's
 *   samples in one transaction; samplesPerSecUnbatched: one transaction (one fsync) per sample.
 * - metersPerCoreAt1Hz: meters one core keeps up with at 1 telegram/s each (parse + batched ingest).
 * - intervalsVerifiedPerSec: verifySamples over `verifySlots` slots of `samplesPerInterval` samples.
 */

export interface EdgeBenchOptions {
  telegrams?: number;
  meters?: number;
  /** Seconds of 1 Hz telegrams per meter for the batched ingestion. */
  seconds?: number;
  unbatchedSamples?: number;
  verifySlots?: number;
  samplesPerInterval?: number;
}

const SLOT_MS = 900_000;
const START = Date.UTC(2026, 5, 1, 0, 0, 0);

function rate(count: number, ms: number): number {
  return Math.round((count * 1000) / ms);
}

function timed<T>(fn: () => T): { result: T; ms: number } {
  const t0 = performance.now();
  const result = fn();
  return { result, ms: performance.now() - t0 };
}

function syntheticSample(meter: number, second: number): MeterSample {
  const wh = 1_000_000 + second * (meter % 7);
  return {
    meterId: `M${meter}`,
    timestampMs: START + second * 1000,
    importT1Wh: wh,
    importT2Wh: 2 * wh,
    exportT1Wh: second,
    exportT2Wh: 0,
    importPowerW: 400 + (meter % 13),
    exportPowerW: 0,
    tariff: 2,
    rawHash: sha256Hex(Buffer.from(`${meter}/${second}`)),
  };
}

export async function benchEdge(options: EdgeBenchOptions = {}): Promise<Record<string, number>> {
  const o = { telegrams: 20_000, meters: 200, seconds: 60, unbatchedSamples: 1000, verifySlots: 480, samplesPerInterval: 90, ...options };
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-edge-'));
  try {
    // Parsing
    const raw: Buffer[] = [];
    for (const t of replayTelegrams({ startMs: START, intervalMs: 1000, durationMs: o.telegrams * 1000, seed: 1 })) raw.push(Buffer.from(t.text, 'latin1'));
    const parse = timed(() => {
      let wh = 0;
      for (const b of raw) wh += parseTelegram(b).telegram.importT1Wh;
      return wh;
    });
    const stream = Buffer.concat(raw);
    const framed = timed(() => {
      const framer = new P1Framer();
      let ok = 0;
      for (let i = 0; i < stream.length; i += 4096) for (const f of framer.push(stream.subarray(i, i + 4096))) if (f.ok) ok++;
      return ok;
    });
    if (framed.result !== raw.length) throw new Error(`framer found ${framed.result} of ${raw.length} telegrams`);

    // Ingestion: one transaction per second of all meters, and one per sample.
    const batches = Array.from({ length: o.seconds }, (_, s) => Array.from({ length: o.meters }, (_, m) => syntheticSample(m, s)));
    const batchedStore = new SampleStore(join(dir, 'batched.db'));
    const batched = timed(() => {
      for (const b of batches) batchedStore.appendBatch(b);
    });
    batchedStore.close();
    const single = new SampleStore(join(dir, 'single.db'));
    const singles = Array.from({ length: o.unbatchedSamples }, (_, s) => syntheticSample(0, s));
    const unbatched = timed(() => {
      for (const s of singles) single.append(s);
    });
    single.close();

    // Verification: a store of verifySlots × samplesPerInterval samples and the fingerprints of every slot.
    const verifyStore = new SampleStore(join(dir, 'verify.db'));
    const step = Math.floor(SLOT_MS / o.samplesPerInterval);
    const firstSlot = START / SLOT_MS;
    const all: MeterSample[] = [];
    for (let i = 0; i < o.verifySlots * o.samplesPerInterval; i++) {
      const s = syntheticSample(1, i);
      all.push({ ...s, timestampMs: START + i * step });
    }
    for (let i = 0; i < all.length; i += 10_000) verifyStore.appendBatch(all.slice(i, i + 10_000));
    const lastSlot = firstSlot + o.verifySlots - 1;
    const ledger = new Map<number, OnChainFingerprint>();
    for (let s = firstSlot; s <= lastSlot; s++) {
      const r = deriveInterval(verifyStore, 'M1', s, { nowMs: (lastSlot + 1) * SLOT_MS })!;
      ledger.set(s, { fingerprint: r.fingerprint, sampleCount: r.sampleCount });
    }
    const verify = timed(() => verifySamples(verifyStore, 'M1', firstSlot, lastSlot, (s) => ledger.get(s)));
    if (!verify.result.every((r) => r.status === 'intact')) throw new Error('verification found a broken slot in an untouched store');
    verifyStore.close();

    const telegramsParsedPerSec = rate(raw.length, parse.ms);
    const samplesPerSecBatched = rate(o.meters * o.seconds, batched.ms);
    return {
      telegramsParsedPerSec,
      framedTelegramsPerSec: rate(raw.length, framed.ms),
      framerMBPerSec: Math.round((stream.length / 1e6 / (framed.ms / 1000)) * 10) / 10,
      meters: o.meters,
      samplesPerSecBatched,
      samplesPerSecUnbatched: rate(o.unbatchedSamples, unbatched.ms),
      metersPerCoreAt1Hz: Math.floor(1 / (1 / telegramsParsedPerSec + 1 / samplesPerSecBatched)),
      samplesPerInterval: o.samplesPerInterval,
      intervalsVerifiedPerSec: rate(o.verifySlots, verify.ms),
      samplesVerifiedPerSec: rate(o.verifySlots * o.samplesPerInterval, verify.ms),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface EdgeAgentBenchOptions {
  /** Meters served by the one agent. */
  meters?: number;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

async function until(what: string, ok: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ok())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * End to end, one agent process on one core: `meters` meters at 1 telegram/s for one whole slot (900
 * telegrams each, plus the first of the next slot, which closes it). Every telegram is parsed from
 * P1 text and handed to the agent as a source would; the agent stores the samples, seals the slot,
 * signs one reading per meter and delivers it to a real node running in another process (its CPU is
 * not counted). The agent's CPU time for all of it gives the meters one core serves at 1 Hz.
 */
export async function benchEdgeAgent(options: EdgeAgentBenchOptions = {}): Promise<Record<string, number>> {
  const n = options.meters ?? 200;
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-edge-agent-'));
  const home = join(dir, 'node');
  const apiPort = await freePort();
  const keys = Array.from({ length: n }, (_, i) => `m${i}`);
  initHome(home, { chainId: 'bench-edge', keyringBackend: 'test', apiPort, p2pPort: await freePort(), extraAccounts: { owner: ['utility'], ...Object.fromEntries(keys.map((k) => [k, ['meter']])) } });
  const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
  config.consensus.blockTimeMs = 200;
  config.logLevel = 'silent';
  writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  const url = `http://127.0.0.1:${apiPort}`;
  const repo = join(import.meta.dirname, '..');
  pinCompiledCode(repo); // bin/gridledger.mjs would run the TypeScript sources on a stale dist/: measure the compiled code
  const nodeProcess = spawn(process.execPath, ['bin/gridledger.mjs', '--home', home, 'start'], { cwd: repo, stdio: 'ignore' });
  let agent: EdgeAgent | undefined;
  try {
    await until('the node', async () => (await callRoute(url, coreRoutes.health, {}).catch(() => undefined)) !== undefined, 30_000);
    const keyring = openKeyring(home, 'test');
    const owner = keyring.show('owner').address;
    const status = await callRoute(url, coreRoutes.status, {});
    const register = keys.map((k, i) => ({ type: 'metering/register', value: { meterId: `B${i}`, address: keyring.show(k).address, maxPowerW: 50_000 } }));
    const txs = [];
    for (let i = 0; i < register.length; i += 64) {
      txs.push(signTx({ chainId: status.chainId, sender: owner, nonce: i / 64, expiresAtHeight: status.height + 1000, msgs: register.slice(i, i + 64), memo: '' }, keyring.signer('owner')));
    }
    await callRoute(url, coreRoutes.submitTxBatch, { body: { txs } });
    await until('the meters on the ledger', async () => (await callRoute(url, coreRoutes.accountNonce, { params: { address: owner } })).committed === txs.length, 60_000);

    const agentConfig = parseAgentConfig({
      db: join(dir, 'edge.db'),
      node: url,
      status: null,
      pollMs: 200,
      closeAfterMs: 600_000,
      meters: keys.map((k, i) => ({ id: `B${i}`, key: k })),
      sources: [{ kind: 'http', host: '127.0.0.1', port: 0 }],
    });
    const signers = new Map(keys.map((k, i) => [`B${i}`, { address: keyring.show(k).address, signer: keyring.signer(k) }]));
    agent = await EdgeAgent.start(agentConfig, { signers, logger: pino({ level: 'silent' }) });
    const ready = agent;
    await until('the agent to bootstrap every meter', () => agentConfig.meters.every((m) => ready.ready(m.id)), 60_000);

    // One telegram text per second (the same for every meter: parsing costs the same), for the slot two slots ago.
    const slot = Math.floor(Date.now() / SLOT_MS) - 2;
    const texts = [...replayTelegrams({ startMs: slot * SLOT_MS, intervalMs: 1000, durationMs: SLOT_MS + 1000, seed: 4 })].map((t) => Buffer.from(t.text, 'latin1'));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (const raw of texts) {
      const telegram = parseTelegram(raw).telegram;
      for (let m = 0; m < n; m++) {
        // What a P1 source does per telegram: parse (once per meter, as each meter's own telegram would be) and offer.
        const own = m === 0 ? telegram : parseTelegram(raw).telegram;
        ready.offer({ sample: sampleFromTelegram(own, raw, { meterId: `B${m}` }), receivedAtMs: Date.now(), source: 'bench' });
      }
    }
    ready.ingestor.flush();
    await until('every reading delivered', () => ready.summary().delivered === n, 120_000);
    const cpu = process.cpuUsage(cpu0);
    const wallMs = performance.now() - t0;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const telegramsPerMeter = texts.length;
    return {
      agentMeters: n,
      agentTelegrams: n * telegramsPerMeter,
      agentReadingsDelivered: ready.summary().delivered,
      agentCpuSeconds: Math.round(cpuSeconds * 100) / 100,
      agentWallSeconds: Math.round(wallMs / 10) / 100,
      agentTelegramsPerCpuSecond: Math.round((n * telegramsPerMeter) / cpuSeconds),
      /** A slot of 1 Hz telegrams is 900 s: this many meters keep one core busy end to end. */
      agentMetersPerCoreAt1Hz: Math.floor((n * (SLOT_MS / 1000)) / cpuSeconds),
    };
  } finally {
    await agent?.stop();
    const exited = new Promise((r) => nodeProcess.once('exit', r));
    nodeProcess.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const library = await benchEdge();
  const agent = await benchEdgeAgent({ meters: arg('--agent-meters') });
  process.stdout.write(`${JSON.stringify({ ...library, ...agent }, null, 2)}\n`);
}
