import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { E } from './errors.js';
import { verifyingKeyFromSnarkjs, type Groth16VerifyingKey } from './encoding.js';

/**
 * The versioned circuit artifacts (zk/artifacts/<circuit>/: wasm, zkey, vkey.json) and their
 * SHA-256 sums. Node-side only (files): the edge and the CLI prove with them; the ledger gets
 * verifying keys as registered JSON, never from disk.
 */
export const CIRCUITS = ['deviation', 'membership'] as const;
export type CircuitName = (typeof CIRCUITS)[number];

export const ARTIFACTS_DIR = fileURLToPath(new URL('../../zk/artifacts/', import.meta.url));

export function artifactPath(circuit: CircuitName, file: 'wasm' | 'zkey' | 'vkey'): string {
  const name = file === 'vkey' ? 'vkey.json' : `${circuit}.${file}`;
  return `${ARTIFACTS_DIR}${circuit}/${name}`;
}

/** zk/artifacts/SHA256SUMS as a map from relative path (`deviation/deviation.zkey`) to hex digest. */
export function recordedSums(): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of readFileSync(`${ARTIFACTS_DIR}SHA256SUMS`, 'utf8').split('\n')) {
    const match = /^([0-9a-f]{64}) {2}(\S+)$/.exec(line);
    if (match) sums.set(match[2]!, match[1]!);
  }
  return sums;
}

/** Throws ZK_ARTIFACT_MISMATCH unless `bytes` have the SHA-256 recorded for `relative` (e.g. `deviation/vkey.json`). */
export function assertArtifactHash(relative: string, bytes: Uint8Array): void {
  const expected = recordedSums().get(relative);
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (expected !== actual) throw E.ZK_ARTIFACT_MISMATCH(`${relative} has SHA-256 ${actual}, SHA256SUMS records ${expected ?? 'nothing'}`);
}

/** Reads an artifact and checks it against SHA256SUMS (a swapped zkey would prove under another key). */
export function readCheckedArtifact(circuit: CircuitName, file: 'wasm' | 'zkey' | 'vkey'): Buffer {
  const path = artifactPath(circuit, file);
  const bytes = readFileSync(path);
  assertArtifactHash(path.slice(ARTIFACTS_DIR.length), bytes);
  return bytes;
}

/** A circuit's verifying key in the registered (ledger) form. */
export function loadVerifyingKey(circuit: CircuitName): Groth16VerifyingKey {
  return verifyingKeyFromSnarkjs(JSON.parse(readCheckedArtifact(circuit, 'vkey').toString('utf8')));
}

/** snarkjs's own vkey.json object (for snarkjs.groth16.verify). */
export function loadSnarkjsVerifyingKey(circuit: CircuitName): unknown {
  return JSON.parse(readCheckedArtifact(circuit, 'vkey').toString('utf8'));
}
