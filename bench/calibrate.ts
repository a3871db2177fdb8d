import { Worker } from 'node:worker_threads';
import { availableParallelism } from 'node:os';

/**
 * This machine's Ed25519 verify rate with node:crypto and cached KeyObjects, on one core and on all
 * cores (worker threads), measured in the same run as the benchmark it calibrates.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const crypto = require('node:crypto');
const { privateKey, publicKey } = crypto.generateKeyPairSync('ed25519');
const msgs = Array.from({ length: 64 }, (_, i) => Buffer.from('calibration message ' + i));
const sigs = msgs.map((m) => crypto.sign(null, m, privateKey));
let ok = 0;
const start = process.hrtime.bigint();
const deadline = start + BigInt(workerData.ms) * 1000000n;
let n = 0;
while (process.hrtime.bigint() < deadline) {
  for (let i = 0; i < 64; i++) if (crypto.verify(null, msgs[i], publicKey, sigs[i])) ok++;
  n += 64;
}
const secs = Number(process.hrtime.bigint() - start) / 1e9;
parentPort.postMessage({ rate: n / secs, ok });
`;

function runWorkers(count: number, ms: number): Promise<number> {
  const runs = Array.from({ length: count }, () =>
    new Promise<number>((resolve, reject) => {
      const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { ms } });
      w.once('message', (m: { rate: number }) => resolve(m.rate));
      w.once('error', reject);
    }),
  );
  return Promise.all(runs).then((rates) => rates.reduce((a, b) => a + b, 0));
}

export interface Calibration {
  cores: number;
  verifyPerSecOneCore: number;
  verifyPerSecAllCores: number;
}

export async function calibrate(ms = 2000): Promise<Calibration> {
  const cores = availableParallelism();
  const one = await runWorkers(1, ms);
  const all = await runWorkers(cores, ms);
  return { cores, verifyPerSecOneCore: Math.round(one), verifyPerSecAllCores: Math.round(all) };
}
