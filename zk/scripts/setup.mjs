#!/usr/bin/env node
/**
 * `npm run zk:setup [-- --check]`: compiles the circuits, runs the development ceremony (powers of
 * tau + Groth16 phase 2) and exports the proving/verifying artifacts to zk/artifacts/<circuit>/
 * with zk/artifacts/SHA256SUMS. Everything is deterministic: the same sources give the same bytes,
 * so `--check` rebuilds into zk/build/ and compares with the versioned hashes instead of writing.
 *
 * The ceremony is a DEVELOPMENT ceremony: its only contributions are beacons whose inputs are
 * written below, so anyone can recompute the toxic waste and forge proofs. See docs/zk.md for how
 * a consortium runs a real multi-party ceremony before production.
 *
 * Large intermediates (r1cs, ptau files, initial zkeys) stay in zk/build/ (git-ignored); the ptau
 * prepared for phase 2 is reused on later runs because preparing it takes minutes.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as snarkjs from 'snarkjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CIRCUITS_DIR = join(ROOT, 'zk', 'circuits');
const BUILD = join(ROOT, 'zk', 'build');
const ARTIFACTS = join(ROOT, 'zk', 'artifacts');
const CIRCUITS = ['deviation', 'membership'];

/** Public beacon inputs of the development ceremony (hex of SHA-256 of these labels). */
const PHASE1_BEACON_LABEL = 'GridLedger zk development ceremony v1, phase 1 (powers of tau). NOT SECURE: public beacon.';
const PHASE2_BEACON_LABEL = 'GridLedger zk development ceremony v1, phase 2 (Groth16). NOT SECURE: public beacon.';
/** 2^10 SHA-256 iterations, snarkjs's minimum: the beacon is public anyway, delay adds nothing here. */
const BEACON_ITERATIONS_EXP = 10;

const check = process.argv.includes('--check');
const logger = {
  debug: () => {},
  info: (msg) => process.stderr.write(`  ${msg}\n`),
  warn: (msg) => process.stderr.write(`  warning: ${msg}\n`),
  error: (msg) => process.stderr.write(`  error: ${msg}\n`),
};

const sha256Hex = (data) => createHash('sha256').update(data).digest('hex');

function compile(circuit) {
  const out = join(BUILD, circuit);
  mkdirSync(out, { recursive: true });
  const circom = createRequire(import.meta.url).resolve('circom2/cli.js');
  // --O2: full linear simplification, so only the non-linear constraints remain (smaller keys).
  const args = [circom, relative(ROOT, join(CIRCUITS_DIR, `${circuit}.circom`)), '--r1cs', '--wasm', '--sym', '--O2', '-l', 'node_modules', '-o', relative(ROOT, out)];
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`circom failed for ${circuit}:\n${run.stdout}\n${run.stderr}`);
  return { r1cs: join(out, `${circuit}.r1cs`), wasm: join(out, `${circuit}_js`, `${circuit}.wasm`) };
}

/** Smallest power of two domain that holds the constraints plus snarkjs's one per public input. */
async function requiredPower(r1csPath) {
  const info = await snarkjs.r1cs.info(r1csPath);
  const rows = info.nConstraints + info.nPubInputs + info.nOutputs + 1;
  let power = 1;
  while (2 ** power < rows) power++;
  process.stderr.write(`  ${relative(ROOT, r1csPath)}: ${info.nConstraints} constraints, ${info.nPubInputs + info.nOutputs} public signals → 2^${power}\n`);
  return power;
}

/** Phase 1: new accumulator, one beacon contribution, prepared for phase 2 (cached in zk/build). */
async function powersOfTau(power) {
  const final = join(BUILD, `pot${power}_final.ptau`);
  if (existsSync(final)) {
    process.stderr.write(`phase 1: reusing ${relative(ROOT, final)}\n`);
    return final;
  }
  process.stderr.write(`phase 1: powers of tau 2^${power} (prepare phase 2 takes minutes)…\n`);
  const curve = await snarkjs.curves.getCurveFromName('bn128');
  const initial = join(BUILD, `pot${power}_0000.ptau`);
  const contributed = join(BUILD, `pot${power}_0001.ptau`);
  await snarkjs.powersOfTau.newAccumulator(curve, power, initial, logger);
  const beacon = sha256Hex(PHASE1_BEACON_LABEL);
  if (!(await snarkjs.powersOfTau.beacon(initial, contributed, 'GridLedger development beacon (phase 1)', beacon, BEACON_ITERATIONS_EXP, logger))) throw new Error('phase 1 beacon failed');
  await snarkjs.powersOfTau.preparePhase2(contributed, `${final}.partial`, logger);
  renameSync(`${final}.partial`, final);
  rmSync(initial);
  rmSync(contributed);
  return final;
}

/** Phase 2: circuit-specific Groth16 keys with one beacon contribution, checked against the r1cs. */
async function groth16Keys(circuit, r1cs, ptau) {
  process.stderr.write(`phase 2: ${circuit}\n`);
  const initial = join(BUILD, circuit, `${circuit}_0000.zkey`);
  const final = join(BUILD, circuit, `${circuit}.zkey`);
  await snarkjs.zKey.newZKey(r1cs, ptau, initial, logger);
  const beacon = sha256Hex(PHASE2_BEACON_LABEL);
  if (!(await snarkjs.zKey.beacon(initial, final, `GridLedger development beacon (${circuit})`, beacon, BEACON_ITERATIONS_EXP, logger))) throw new Error(`phase 2 beacon failed for ${circuit}`);
  if (!(await snarkjs.zKey.verifyFromR1cs(r1cs, ptau, final, logger))) throw new Error(`zkey of ${circuit} does not match its circuit and ptau`);
  const vkey = await snarkjs.zKey.exportVerificationKey(final, logger);
  return { zkey: final, vkey: `${JSON.stringify(vkey, null, 1)}\n` };
}

/** The files versioned per circuit, as [name in zk/artifacts/<circuit>/, bytes]. */
function artifactFiles(circuit, built) {
  return [
    [`${circuit}.wasm`, readFileSync(built.wasm)],
    [`${circuit}.zkey`, readFileSync(built.zkey)],
    ['vkey.json', Buffer.from(built.vkey, 'utf8')],
  ];
}

async function main() {
  mkdirSync(BUILD, { recursive: true });
  process.stderr.write('compiling circuits (circom2, WebAssembly)…\n');
  const compiled = Object.fromEntries(CIRCUITS.map((c) => [c, compile(c)]));
  let power = 0;
  for (const c of CIRCUITS) power = Math.max(power, await requiredPower(compiled[c].r1cs));
  const ptau = await powersOfTau(power);
  const sums = [];
  let mismatches = 0;
  for (const circuit of CIRCUITS) {
    const keys = await groth16Keys(circuit, compiled[circuit].r1cs, ptau);
    for (const [name, bytes] of artifactFiles(circuit, { ...compiled[circuit], ...keys })) {
      const path = `${circuit}/${name}`;
      sums.push(`${sha256Hex(bytes)}  ${path}`);
      process.stderr.write(`  ${path}: ${bytes.length} bytes\n`);
      if (check) continue;
      mkdirSync(join(ARTIFACTS, circuit), { recursive: true });
      writeFileSync(join(ARTIFACTS, path), bytes);
    }
  }
  const sumsText = `${sums.join('\n')}\n`;
  if (check) {
    const versioned = readFileSync(join(ARTIFACTS, 'SHA256SUMS'), 'utf8');
    for (const line of sums) if (!versioned.includes(line)) { mismatches++; process.stderr.write(`differs: ${line}\n`); }
    process.stderr.write(mismatches === 0 ? 'check: rebuilt artifacts match zk/artifacts/SHA256SUMS\n' : `check: ${mismatches} artifact(s) differ\n`);
  } else {
    writeFileSync(join(ARTIFACTS, 'SHA256SUMS'), sumsText);
    process.stderr.write(`wrote ${relative(ROOT, ARTIFACTS)}/ and SHA256SUMS\n`);
  }
  // snarkjs keeps worker threads of its curve alive; end them so the process exits.
  await (await snarkjs.curves.getCurveFromName('bn128')).terminate();
  process.exitCode = mismatches === 0 ? 0 : 1;
}

await main();
