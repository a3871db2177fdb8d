import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs test/bitcoin/verify_tx.py under a python3 that has python-bitcoinlib (Debian package
 * python3-bitcoinlib). No such interpreter is a test failure, never a skip: the independent check is
 * the point of these tests (CI installs the package).
 */

const SCRIPT = fileURLToPath(new URL('./verify_tx.py', import.meta.url));
let found: string | undefined;

export function pythonWithBitcoinlib(): string {
  if (found) return found;
  const candidates = [process.env.PYTHON3, 'python3', '/usr/bin/python3'].filter((c): c is string => Boolean(c));
  for (const candidate of candidates) {
    const probe = spawnSync(candidate, ['-c', 'import bitcoin, bitcoin.core.script'], { encoding: 'utf8' });
    if (probe.status === 0) return (found = candidate);
  }
  throw new Error(`no python3 with python-bitcoinlib among ${candidates.join(', ')} (CI=${process.env.CI ?? 'unset'}): install it with "apt-get install -y python3-bitcoinlib"`);
}

export interface PyPrevout {
  scriptPubKey: string;
  amount: number;
}

export interface PyResult {
  error?: string;
  txid: string;
  wtxid: string;
  opReturns: { index: number; ops: number; pushes: string[]; value: number }[];
  inputs: { type?: string; valid: boolean; error?: string }[];
  outputs: { value: number; address: string | null }[];
  fee: number;
  weight: number;
  vsize: number;
}

export function verifyWithPython(network: string, txs: { rawHex: string; prevouts: PyPrevout[] }[]): { bitcoinlib: string; results: PyResult[] } {
  const python = pythonWithBitcoinlib();
  const run = spawnSync(python, [SCRIPT], { input: JSON.stringify({ network, txs }), encoding: 'utf8', timeout: 60_000 });
  if (run.status !== 0) throw new Error(`verify_tx.py failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}
