import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { callRoute } from '../src/api/client.js';
import { coreRoutes } from '../src/api/routes.js';
import { signTx, type Msg, type SignedTx } from '../src/codec/tx.js';
import { addressFromPublicKey } from '../src/crypto/address.js';
import { openKeyring, paths } from '../src/home/home.js';
import { eventField } from '../src/modules/flex/keeper.js';
import { flexCore } from '../src/modules/flex/module.js';
import { energyCore } from '../src/modules/energy/module.js';
import { meteringCore } from '../src/modules/metering/module.js';
import { paymentsCore } from '../src/modules/payments/module.js';
import { registryCore } from '../src/modules/registry/module.js';
import { prepareDevnet, startDevnetNode } from '../src/runtime/devnet.js';
import { initHome } from '../src/runtime/init.js';
import { loadVerifyingKey } from '../src/zk/artifacts.js';
import { absoluteDeviation, deviationCommitment, deviationPublicInputs } from '../src/zk/circuits.js';
import { verifyingKeyId, type Groth16Proof } from '../src/zk/encoding.js';
import { closeProver, proveDeviation } from '../src/zk/prove.js';
import { prepareVerifyingKey, verifyGroth16 } from '../src/zk/verify.js';
import { account, TestChain } from '../test/helpers/chain.js';
import { pinCompiledCode } from '../scripts/lib/cluster.js';
import { CommitWatcher, freePort, measureSaturation, presignAdmissions } from './foundation.js';
import { freeBasePort } from '../test/devnet/harness.js';

/**
 * Flex benchmark (issue 14).
 *
 *  - proof generation at the edge: `proveDeviation` (snarkjs), median of N after one warm-up;
 *  - verifications/s in the node: `verifyGroth16` with a prepared key (one core);
 *  - committed deviation messages/s in process: `flex/prove` transactions executed and committed in
 *    blocks (the app host over SQLite in memory), alternating block by block with the foundation's
 *    transaction (registry admissions), so the ratio holds on a loaded machine;
 *  - over a network (`--network --validators N`): node processes on loopback, pre-signed proofs,
 *    committed `flex/prove` messages/s against admissions/s of the same run.
 *
 * `node bin/run-ts.mjs bench/flex.ts [--proofs N] [--network --validators N]` prints JSON.
 */

const HOUR = 3_600_000;
const ASSET = 'NOK@bench';
const CHAIN = 'bench-chain';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

interface Statement {
  event: string;
  interval: number;
  value: bigint;
  salt: bigint;
  requested: number;
}

/** Deterministic statements: `events` events of 96 quarter hours, the first `count` intervals in order. */
function statements(count: number): Statement[] {
  return Array.from({ length: count }, (_, k) => ({ event: `ev${1 + Math.floor(k / 96)}`, interval: k % 96, value: BigInt(400 + ((k * 37) % 300)), salt: 1_000_003n * BigInt(k + 1), requested: 500 }));
}

async function proveAll(list: Statement[], chainId: string): Promise<{ proofs: Groth16Proof[]; msPerProof: number[] }> {
  const proofs: Groth16Proof[] = [];
  const msPerProof: number[] = [];
  for (const s of list) {
    const t0 = performance.now();
    const b = await proveDeviation({ value: s.value, salt: s.salt, requested: BigInt(s.requested), eventId: eventField(chainId, s.event), intervalIndex: BigInt(s.interval) });
    msPerProof.push(performance.now() - t0);
    proofs.push(b.proof);
  }
  return { proofs, msPerProof };
}

function verifyRate(list: Statement[], proofs: Groth16Proof[], chainId: string): number {
  const vk = prepareVerifyingKey(loadVerifyingKey('deviation'));
  const t0 = performance.now();
  for (let i = 0; i < list.length; i++) {
    const s = list[i]!;
    const inputs = deviationPublicInputs({ commitment: deviationCommitment(s.value, s.salt), requested: BigInt(s.requested), deviation: absoluteDeviation(BigInt(s.requested), s.value), eventId: eventField(chainId, s.event), intervalIndex: BigInt(s.interval) });
    if (!verifyGroth16(vk, proofs[i]!, inputs)) throw new Error('a benchmark proof did not verify');
  }
  return list.length / ((performance.now() - t0) / 1000);
}

/** The setup messages (by sender) of a chain with `events` events of 96 quarter-hour intervals starting at `start`. */
function setupMsgs(events: number, start: number, who: { agg: string; pros: string; meter: string }) {
  const vk = loadVerifyingKey('deviation');
  return {
    operator: [{ type: 'flex/register-key', value: { circuit: 'deviation', key: vk } }] as Msg[],
    bank: [
      { type: 'payments/create-asset', value: { code: 'NOK', scope: 'bench', name: 'Bench kroner' } },
      { type: 'payments/mint', value: { asset: ASSET, to: who.agg, amount: '1000000000000', depositRef: 'SEED' } },
    ] as Msg[],
    gridop: [{ type: 'metering/register', value: { meterId: 'M1', address: who.meter, maxPowerW: 50_000 } }] as Msg[],
    agg: [
      { type: 'flex/program', value: { name: 'bench', intervalMinutes: 15, asset: ASSET, rewardPerInterval: '1000000', penaltyPerWh: '1000', proofSystem: 'groth16-bn254', verifyingKey: verifyingKeyId(vk) } },
      ...Array.from({ length: events }, () => ({ type: 'flex/event', value: { program: 'p1', prosumer: who.pros, payloadType: 'IMPORT_ENERGY', start, requestedWh: Array(96).fill(500) } })),
    ] as Msg[],
    enrol: Array.from({ length: events }, (_, e) => ({ type: 'flex/enrol', value: { event: `ev${e + 1}`, meterId: 'M1' } })) as Msg[],
  };
}

const commitMsg = (s: Statement): Msg => ({ type: 'flex/commit', value: { event: s.event, interval: s.interval, commitment: deviationCommitment(s.value, s.salt).toString(), fingerprints: [] } });
const proveMsg = (s: Statement, proof: Groth16Proof): Msg => ({ type: 'flex/prove', value: { event: s.event, interval: s.interval, deviation: Number(absoluteDeviation(BigInt(s.requested), s.value)), proof } });

function chunk<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

function commitBlock(chain: TestChain, txs: SignedTx[], time?: number): number {
  const t0 = performance.now();
  const results = chain.block(txs, time);
  const ms = performance.now() - t0;
  const bad = results.find((r) => r.code !== 'OK');
  if (bad) throw new Error(`benchmark transaction refused: ${bad.code} ${bad.message}`);
  return ms;
}

function inProcess(list: Statement[], proofs: Groth16Proof[], perBlock: number): { provesPerSec: number; admissionsPerSec: number } {
  const genesisTime = Date.UTC(2026, 5, 1, 0, 0, 0);
  const chain = new TestChain({
    chainId: CHAIN,
    modules: [registryCore, meteringCore, energyCore, paymentsCore, flexCore],
    genesisTime,
    genesisModules: { payments: {}, flex: { maxProofsPerBlock: 1000, proofWindowMs: 3 * 24 * HOUR } },
    accounts: { 'b-agg': ['aggregator'], 'b-pros': ['prosumer'], 'b-bank': ['issuer'], 'b-meter': ['meter'], 'b-gridop': ['grid-operator'] },
  });
  const [agg, pros, bank, meter, gridop] = ['b-agg', 'b-pros', 'b-bank', 'b-meter', 'b-gridop'].map(account) as [ReturnType<typeof account>, ReturnType<typeof account>, ReturnType<typeof account>, ReturnType<typeof account>, ReturnType<typeof account>];
  const events = Math.ceil(list.length / 96);
  const start = genesisTime + HOUR;
  const setup = setupMsgs(events, start, { agg: agg.address, pros: pros.address, meter: meter.address });
  commitBlock(chain, [chain.tx(chain.operator, setup.operator), chain.tx(bank, setup.bank), chain.tx(gridop, setup.gridop), chain.tx(agg, setup.agg)]);
  commitBlock(chain, [chain.tx(pros, setup.enrol)]);
  for (const group of chunk(list, 64)) commitBlock(chain, [chain.tx(meter, group.map(commitMsg))], start + 25 * HOUR);
  const proves = list.map((s, i) => chain.tx(pros, [proveMsg(s, proofs[i]!)]));
  // the foundation's transaction, for the ratio
  const admin = new TestChain({ modules: [registryCore] });
  const admits = list.map((_, i) => admin.tx(admin.operator, [{ type: 'registry/admit', value: { address: addressFromPublicKey(createHash('sha256').update(`bench-flex-admit-${i}`).digest()), roles: ['consumer'] } }]));
  let proveMs = 0;
  let admitMs = 0;
  const p = chunk(proves, perBlock);
  const a = chunk(admits, perBlock);
  for (let i = 0; i < p.length; i++) {
    proveMs += commitBlock(chain, p[i]!, start + 25 * HOUR + 1000 * (i + 1));
    admitMs += commitBlock(admin, a[i]!);
  }
  chain.storage.close();
  admin.storage.close();
  return { provesPerSec: list.length / (proveMs / 1000), admissionsPerSec: list.length / (admitMs / 1000) };
}

export async function benchFlex(options: { proofs?: number } = {}): Promise<Record<string, number | string>> {
  const list = statements(options.proofs ?? 48);
  await proveAll(list.slice(0, 1), CHAIN); // warm-up: loads the wasm and zkey, starts snarkjs's workers
  const { proofs, msPerProof } = await proveAll(list, CHAIN);
  await closeProver();
  const verifyPerSec = verifyRate(list, proofs, CHAIN);
  const r = inProcess(list, proofs, 16);
  return {
    mode: 'in-process (app host, SQLite in memory)',
    proofs: list.length,
    proveMsMedian: Math.round(median(msPerProof)),
    proveMsMax: Math.round(Math.max(...msPerProof)),
    verifyPerSec: Math.round(verifyPerSec),
    committedProvesPerSec: Math.round(r.provesPerSec),
    foundationAdmissionsPerSec: Math.round(r.admissionsPerSec),
    provesRatioToFoundation: Number((r.provesPerSec / r.admissionsPerSec).toFixed(4)),
    provesRatioToVerify: Number((r.provesPerSec / verifyPerSec).toFixed(3)),
  };
}

// ── over the network ──

async function waitHealthy(url: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await callRoute(url, coreRoutes.status, {})).height >= 1) return;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`node ${url} did not start`);
}

async function network(validators: number, blockTimeMs: number): Promise<{ home: string; urls: string[]; stop(): Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'gridledger-bench-flex-'));
  const extra = { 'b-agg': ['aggregator'], 'b-pros': ['prosumer'], 'b-bank': ['issuer'], 'b-meter': ['meter'], 'b-gridop': ['grid-operator'] };
  let homes: string[];
  let urls: string[];
  let nodes: ReturnType<typeof prepareDevnet>['nodes'] = [];
  if (validators === 1) {
    const port = await freePort();
    const home = join(dir, 'node0');
    initHome(home, { chainId: CHAIN, keyringBackend: 'test', apiPort: port, extraAccounts: extra });
    homes = [home];
    urls = [`http://127.0.0.1:${port}`];
  } else {
    const manifest = prepareDevnet(dir, validators, await freeBasePort(validators), CHAIN, { blockTimeMs }, extra);
    nodes = manifest.nodes;
    homes = manifest.nodes.map((n) => n.home);
    urls = manifest.nodes.map((n) => n.api);
  }
  for (const home of homes) {
    const genesis = JSON.parse(readFileSync(paths(home).genesis, 'utf8'));
    genesis.modules.flex = { enrolGraceMs: 2 * 24 * HOUR, proofWindowMs: 3 * 24 * HOUR, maxProofsPerBlock: 1000 };
    writeFileSync(paths(home).genesis, JSON.stringify(genesis, null, 2));
    const config = JSON.parse(readFileSync(paths(home).config, 'utf8'));
    config.consensus.blockTimeMs = blockTimeMs;
    config.logLevel = 'warn';
    writeFileSync(paths(home).config, JSON.stringify(config, null, 2));
  }
  // Nodes start through bin/gridledger.mjs, which runs the TypeScript sources when dist/ is stale: measure the compiled code.
  pinCompiledCode();
  const children: ChildProcess[] =
    validators === 1 ? [spawn(process.execPath, ['bin/gridledger.mjs', '--home', homes[0]!, 'start'], { stdio: ['ignore', 'ignore', 'inherit'] })] : nodes.map((n) => startDevnetNode(n));
  const stop = async (): Promise<void> => {
    for (const c of children) c.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 1000));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    for (const url of urls) await waitHealthy(url);
  } catch (err) {
    await stop(); // none left running when one does not start
    throw err;
  }
  return { home: homes[0]!, urls, stop };
}

async function committed(url: string, txs: SignedTx[]): Promise<void> {
  for (const group of chunk(txs, 200)) {
    const res = await callRoute(url, coreRoutes.submitTxBatch, { body: { txs: group } });
    for (const r of res.results) {
      if (r.code !== 'OK') throw new Error(`setup admission: ${r.code} ${r.message}`);
      const done = await callRoute(url, coreRoutes.getTx, { params: { hash: r.hash! }, query: { wait: 60 } });
      if (done.result?.code !== 'OK') throw new Error(`setup: ${done.result?.code} ${done.result?.message}`);
    }
  }
}

export async function benchFlexNetwork(options: { validators: number; proofs: number }): Promise<Record<string, number>> {
  const net = await network(options.validators, 1000);
  const url = net.urls[0]!;
  const watcher = new CommitWatcher();
  try {
    await watcher.start(url);
    const keyring = openKeyring(net.home, 'test');
    const key = (name: string) => ({ address: keyring.show(name).address, signer: keyring.signer(name) });
    const [admin, agg, pros, bank, meter, gridop] = ['admin', 'b-agg', 'b-pros', 'b-bank', 'b-meter', 'b-gridop'].map(key) as Array<ReturnType<typeof key>>;
    const { chainId } = await callRoute(url, coreRoutes.status, {});
    const EXPIRES = 1_000_000;
    const nonces = new Map<string, number>();
    const sign = (who: ReturnType<typeof key>, msgs: Msg[]) => {
      const nonce = nonces.get(who!.address) ?? 0;
      nonces.set(who!.address, nonce + 1);
      return signTx({ chainId, sender: who!.address, nonce, expiresAtHeight: EXPIRES, msgs, memo: '' }, who!.signer);
    };
    const list = statements(options.proofs);
    const start = Math.floor(Date.now() / HOUR) * HOUR - 25 * HOUR;
    const setup = setupMsgs(Math.ceil(list.length / 96), start, { agg: agg!.address, pros: pros!.address, meter: meter!.address });
    nonces.set(admin!.address, (await callRoute(url, coreRoutes.accountNonce, { params: { address: admin!.address } })).next);
    await committed(url, [sign(admin!, setup.operator), sign(bank!, setup.bank), sign(gridop!, setup.gridop)]);
    await committed(url, [sign(agg!, setup.agg)]);
    await committed(url, [sign(pros!, setup.enrol)]);
    await committed(url, chunk(list, 64).map((g) => sign(meter!, g.map(commitMsg))));
    const { proofs } = await proveAll(list, chainId);
    await closeProver();
    const proves = list.map((s, i) => sign(pros!, [proveMsg(s, proofs[i]!)]));
    const admissions = presignAdmissions(net.home, chainId, list.length, nonces.get(admin!.address)!, EXPIRES);
    const admitRate = await measureSaturation(url, admissions, watcher);
    const proveRate = await measureSaturation(url, proves, watcher);
    return { validators: options.validators, proofs: list.length, admissionsPerSec: Math.round(admitRate), committedProvesPerSec: Number(proveRate.toFixed(1)), provesRatioToFoundation: Number((proveRate / admitRate).toFixed(4)) };
  } finally {
    watcher.stop();
    await net.stop();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({ options: { proofs: { type: 'string', default: '48' }, network: { type: 'boolean', default: false }, validators: { type: 'string', default: '1' } } });
  const report = values.network ? await benchFlexNetwork({ validators: Number(values.validators), proofs: Number(values.proofs) }) : await benchFlex({ proofs: Number(values.proofs) });
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  process.exit(0);
}
