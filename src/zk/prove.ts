// The reference keeps the package declarations in every program that compiles this file.
// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- an ambient declaration file cannot be imported
/// <reference path="./vendor.d.ts" />
import { randomBytes } from 'node:crypto';
import { WitnessCalculatorBuilder, type WitnessCalculator } from 'circom_runtime';
import * as snarkjs from 'snarkjs';
import { readCheckedArtifact, type CircuitName } from './artifacts.js';
import { absoluteDeviation, deviationCommitment, membershipNullifier } from './circuits.js';
import { proofFromSnarkjs, type Groth16Proof } from './encoding.js';
import { E } from './errors.js';
import { assertScalarFieldElement, SCALAR_FIELD_MODULUS } from './field.js';
import type { MerklePath } from './merkle.js';

/**
 * Groth16 prover for the edge and the CLI (asynchronous, snarkjs): witness from the circuit's wasm,
 * proof from its final zkey, both read once per process and checked against SHA256SUMS.
 * Not for ledger code (it uses files, randomness and worker threads).
 */

export interface ProofBundle {
  proof: Groth16Proof;
  /** Public inputs in circuit order, as the prover computed them (the verifier rebuilds its own). */
  publicInputs: string[];
}

/** A circuit input: signal name → field element or array of field elements. */
export type CircuitInput = Record<string, bigint | readonly bigint[]>;

interface LoadedCircuit {
  wasm: Uint8Array;
  zkey: Uint8Array;
  calculator?: Promise<WitnessCalculator>;
  /** Tail of the witness calculations in progress: they share one WebAssembly instance. */
  queue: Promise<unknown>;
}
const loaded = new Map<CircuitName, LoadedCircuit>();

function artifacts(circuit: CircuitName): LoadedCircuit {
  let a = loaded.get(circuit);
  if (!a) {
    a = { wasm: new Uint8Array(readCheckedArtifact(circuit, 'wasm')), zkey: new Uint8Array(readCheckedArtifact(circuit, 'zkey')), queue: Promise.resolve() };
    loaded.set(circuit, a);
  }
  return a;
}

/**
 * Witness (.wtns bytes) for the inputs. The compiled calculator is reused (and dropped after a
 * failure); calculations run one at a time because the instance's memory holds the inputs between
 * an await inside circom_runtime, so two interleaved calls could read each other's witness.
 */
function witness(circuit: LoadedCircuit, signals: Record<string, string | string[]>): Promise<Uint8Array> {
  const run = circuit.queue.then(async () => {
    circuit.calculator ??= WitnessCalculatorBuilder(circuit.wasm, { sanityCheck: true });
    try {
      return await (await circuit.calculator).calculateWTNSBin(signals, true);
    } catch (err) {
      circuit.calculator = undefined;
      throw err;
    }
  });
  circuit.queue = run.catch(() => undefined);
  return run;
}

/** The witness calculator reduces inputs modulo r without a word; refuse them instead. */
function toSignals(input: CircuitInput): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const name of Object.keys(input).sort()) {
    const v = input[name]!;
    out[name] = typeof v === 'bigint' ? assertScalarFieldElement(v, name).toString() : v.map((x, i) => assertScalarFieldElement(x, `${name}[${i}]`).toString());
  }
  return out;
}

/**
 * Proves `circuit` for raw inputs (all signals, public and private). Inputs that do not satisfy the
 * constraints throw ZK_WITNESS_FAILED: no proof exists for them.
 */
export async function proveCircuit(circuit: CircuitName, input: CircuitInput): Promise<ProofBundle> {
  const loadedCircuit = artifacts(circuit);
  const signals = toSignals(input);
  let wtns: Uint8Array;
  try {
    wtns = await witness(loadedCircuit, signals);
  } catch (err) {
    throw E.ZK_WITNESS_FAILED(`inputs do not satisfy the ${circuit} circuit: ${firstLine(err)}`);
  }
  try {
    const { proof, publicSignals } = await snarkjs.groth16.prove({ type: 'mem', data: loadedCircuit.zkey }, { type: 'mem', data: wtns });
    return { proof: proofFromSnarkjs(proof), publicInputs: publicSignals };
  } catch (err) {
    throw E.ZK_PROVE_FAILED(`${circuit} prover failed: ${firstLine(err)}`);
  }
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0]!;
}

export interface DeviationWitness {
  /** Measured interval value, Wh (private). */
  value: bigint;
  /** The salt of the registered commitment (private). */
  salt: bigint;
  /** Requested value of the interval, Wh (public). */
  requested: bigint;
  /** eventIdToField(event id) (public). */
  eventId: bigint;
  intervalIndex: bigint;
}

/** Proves deviation = |requested − value| against commitment = Poseidon(value, salt). */
export async function proveDeviation(w: DeviationWitness): Promise<ProofBundle> {
  return proveCircuit('deviation', {
    commitment: deviationCommitment(w.value, w.salt),
    requested: w.requested,
    deviation: absoluteDeviation(w.requested, w.value),
    eventId: w.eventId,
    intervalIndex: w.intervalIndex,
    value: w.value,
    salt: w.salt,
  });
}

export interface MembershipWitness {
  /** The member's identity secret (private); its commitment is path.leaf. */
  secret: bigint;
  /** Path of the member's commitment in the members' tree (private); path.root is public. */
  path: MerklePath;
  epoch: bigint;
  /** Which of the member's accounts of this epoch, 0 ≤ slotIndex < maxSlots (private). */
  slotIndex: bigint;
  maxSlots: bigint;
  /** signalHashForAddress(new account address). */
  signalHash: bigint;
}

/** Proves membership in the tree at path.root with nullifier Poseidon(secret, Poseidon(epoch, slot)). */
export async function proveMembership(w: MembershipWitness): Promise<ProofBundle> {
  return proveCircuit('membership', {
    root: w.path.root,
    nullifier: membershipNullifier(w.secret, w.epoch, w.slotIndex),
    epoch: w.epoch,
    maxSlots: w.maxSlots,
    signalHash: w.signalHash,
    secret: w.secret,
    slotIndex: w.slotIndex,
    leafIndex: BigInt(w.path.leafIndex),
    siblings: w.path.siblings,
  });
}

/** A uniformly random scalar field element (salts, identity secrets): 64 random bytes reduced mod r. */
export function randomFieldElement(): bigint {
  let n = 0n;
  for (const byte of randomBytes(64)) n = (n << 8n) | BigInt(byte);
  return n % SCALAR_FIELD_MODULUS;
}

/** Ends snarkjs's worker threads (call before a CLI process exits; proving again restarts them). */
export async function closeProver(): Promise<void> {
  const g = globalThis as { curve_bn128?: { terminate(): Promise<void> } | null };
  if (g.curve_bn128) await g.curve_bn128.terminate();
}
