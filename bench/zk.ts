import { pathToFileURL } from 'node:url';
import * as snarkjs from 'snarkjs';
import { loadSnarkjsVerifyingKey, loadVerifyingKey, type CircuitName } from '../src/zk/artifacts.js';
import { eventIdToField, identityCommitment, signalHashForAddress } from '../src/zk/circuits.js';
import { proofToSnarkjs } from '../src/zk/encoding.js';
import { PoseidonMerkleTree } from '../src/zk/merkle.js';
import { closeProver, proveDeviation, proveMembership, randomFieldElement, type ProofBundle } from '../src/zk/prove.js';
import { prepareVerifyingKey, verifyGroth16 } from '../src/zk/verify.js';

/**
 * Zero-knowledge benchmark: Groth16 proof generation per circuit (snarkjs, as the edge runs it;
 * the first proof, which loads and compiles the artifacts, is reported apart), and verifications
 * per second on one thread for the node's synchronous noble verifier and for snarkjs's verify.
 * Run alone with `node bin/run-ts.mjs bench/zk.ts [--proofs N] [--verify-ms MS]`.
 */

export interface CircuitBench {
  circuit: CircuitName;
  firstProofMs: number;
  proofMsMedian: number;
  proofMsMin: number;
  proofs: number;
  prepareVerifyingKeyMs: number;
  nobleVerifyPerSec: number;
  snarkjsVerifyPerSec: number;
}

export interface ZkBenchOptions {
  /** Proofs timed per circuit after the first (default 10). */
  proofs?: number;
  /** Time spent verifying per verifier and circuit (default 3000 ms). */
  verifyMs?: number;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const round = (x: number, digits = 1) => Number(x.toFixed(digits));

async function timeProofs(make: () => Promise<ProofBundle>, count: number): Promise<{ first: number; times: number[]; sample: ProofBundle }> {
  let t = performance.now();
  const sample = await make();
  const first = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    t = performance.now();
    await make();
    times.push(performance.now() - t);
  }
  return { first, times, sample };
}

/** Rate of `verifyOnce` (which must return true) over about `ms` milliseconds. */
async function rate(verifyOnce: () => boolean | Promise<boolean>, ms: number): Promise<number> {
  if (!(await verifyOnce())) throw new Error('benchmark proof does not verify');
  const start = performance.now();
  let n = 0;
  while (performance.now() - start < ms) {
    if (!(await verifyOnce())) throw new Error('benchmark proof does not verify');
    n++;
  }
  return (n * 1000) / (performance.now() - start);
}

async function benchCircuit(circuit: CircuitName, make: () => Promise<ProofBundle>, opts: Required<ZkBenchOptions>): Promise<CircuitBench> {
  const { first, times, sample } = await timeProofs(make, opts.proofs);
  const t = performance.now();
  const vk = prepareVerifyingKey(loadVerifyingKey(circuit));
  const prepareVerifyingKeyMs = performance.now() - t;
  const nobleVerifyPerSec = await rate(() => verifyGroth16(vk, sample.proof, sample.publicInputs), opts.verifyMs);
  const snarkVk = loadSnarkjsVerifyingKey(circuit);
  const snarkProof = proofToSnarkjs(sample.proof);
  const snarkjsVerifyPerSec = await rate(() => snarkjs.groth16.verify(snarkVk, sample.publicInputs, snarkProof), opts.verifyMs);
  return {
    circuit,
    firstProofMs: round(first),
    proofMsMedian: round(median(times)),
    proofMsMin: round(Math.min(...times)),
    proofs: times.length,
    prepareVerifyingKeyMs: round(prepareVerifyingKeyMs),
    nobleVerifyPerSec: round(nobleVerifyPerSec),
    snarkjsVerifyPerSec: round(snarkjsVerifyPerSec),
  };
}

export async function benchZk(options: ZkBenchOptions = {}): Promise<CircuitBench[]> {
  const opts = { proofs: options.proofs ?? 10, verifyMs: options.verifyMs ?? 3000 };
  const salt = randomFieldElement();
  let interval = 0n;
  const deviation = () => proveDeviation({ value: 5300n, salt, requested: 5000n, eventId: eventIdToField('bench-event'), intervalIndex: interval++ });
  const tree = new PoseidonMerkleTree();
  const secrets = Array.from({ length: 32 }, () => randomFieldElement());
  for (const s of secrets) tree.insert(identityCommitment(s));
  let slot = 0n;
  const membership = () => proveMembership({ secret: secrets[5]!, path: tree.path(5), epoch: 1n, slotIndex: slot++ % 4n, maxSlots: 4n, signalHash: signalHashForAddress('grid1bench') });
  try {
    return [await benchCircuit('deviation', deviation, opts), await benchCircuit('membership', membership, opts)];
  } finally {
    await closeProver();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const arg = (name: string) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const result = await benchZk({ proofs: arg('--proofs'), verifyMs: arg('--verify-ms') });
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
}
