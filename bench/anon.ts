import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { signTx, type SignedTx } from '../src/codec/tx.js';
import { anon, ANON_MSG, buildAdmission, epochField } from '../src/modules/anon/index.js';
import { anonCore } from '../src/modules/anon/module.js';
import { paymentsCore } from '../src/modules/payments/module.js';
import { registryCore } from '../src/modules/registry/module.js';
import { loadVerifyingKey } from '../src/zk/artifacts.js';
import { identityCommitment, membershipPublicInputs, signalHashForAddress } from '../src/zk/circuits.js';
import { closeProver, randomFieldElement } from '../src/zk/prove.js';
import { prepareVerifyingKey, verifyGroth16 } from '../src/zk/verify.js';
import { account, TestChain } from '../test/helpers/chain.js';
import { calibrate } from './calibrate.js';

/**
 * Anonymous trade accounts benchmark (issue 16):
 *  - membership proof generation as the CLI does it (`buildAdmission`: rebuild the members' tree from
 *    all leaves, find the own leaf, prove with snarkjs), median of N after a warm-up, with `--members`
 *    registered members;
 *  - verifications/s of one membership proof with the node's synchronous verifier (one core);
 *  - admissions/s in a block: N `anon/admit` transactions from fresh keys executed and committed in
 *    one block (each proof verified once, at the block's admission check);
 *  - the Ed25519 verify rate of the same run (bench/calibrate.ts) and the ratio to it.
 *
 * `node bin/run-ts.mjs bench/anon.ts [--proofs N] [--members M] [--verify-ms MS]` prints JSON.
 */

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
const round = (x: number, digits = 1) => Number(x.toFixed(digits));

export interface AnonBench {
  members: number;
  proofs: number;
  firstProofMs: number;
  proofMsMedian: number;
  proofMsMin: number;
  verifyPerSecOneCore: number;
  admissionsPerSecInBlock: number;
}

export async function benchAnon(opts: { proofs: number; members: number; verifyMs: number }): Promise<AnonBench> {
  const chain = new TestChain({ modules: [registryCore, paymentsCore, anonCore], accounts: Object.fromEntries(Array.from({ length: opts.members }, (_, i) => [`m${i}`, ['prosumer']])), genesisModules: { anon: { maxSlots: 2, epochBlocks: 1_000_000 } } });
  const secrets = Array.from({ length: opts.members }, () => randomFieldElement());
  const registrations = secrets.map((s, i) => chain.tx(account(`m${i}`), [{ type: ANON_MSG.register, value: { commitment: identityCommitment(s).toString() } }]));
  chain.block([chain.tx(chain.operator, [{ type: ANON_MSG.registerKey, value: { circuit: 'membership', key: loadVerifyingKey('membership') } }]), ...registrations]);
  const leaves = chain.query(anon, 'anonLeaves').leaves as string[];
  const epoch = 0;

  const fresh = Array.from({ length: opts.proofs + 1 }, (_, i) => account(`bench-anon-${i}-${randomFieldElement().toString(36).slice(0, 6)}`));
  const msgs = [];
  const times: number[] = [];
  for (let i = 0; i <= opts.proofs; i++) {
    const t = performance.now();
    // members in turn, so every proof has its own nullifier
    msgs.push(await buildAdmission({ chainId: chain.chainId, secret: secrets[i % opts.members]!, leaves, epoch, slot: Math.floor(i / opts.members) % 2, maxSlots: 2, address: fresh[i]!.address }));
    times.push(performance.now() - t);
  }
  await closeProver();

  const vk = prepareVerifyingKey(loadVerifyingKey('membership'));
  const sample = msgs[0]!;
  const inputs = membershipPublicInputs({ root: BigInt(sample.root), nullifier: BigInt(sample.nullifier), epoch: epochField(chain.chainId, epoch), maxSlots: 2n, signalHash: signalHashForAddress(fresh[0]!.address) });
  if (!verifyGroth16(vk, sample.proof, inputs)) throw new Error('benchmark proof does not verify');
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < opts.verifyMs) {
    verifyGroth16(vk, sample.proof, inputs);
    n++;
  }
  const verifyPerSec = (n * 1000) / (performance.now() - start);

  const txs: SignedTx[] = msgs.map((value, i) => signTx({ chainId: chain.chainId, sender: fresh[i]!.address, nonce: 0, expiresAtHeight: 100, msgs: [{ type: ANON_MSG.admit, value }], memo: '' }, fresh[i]!.signer));
  const t = performance.now();
  const results = chain.block(txs);
  const blockMs = performance.now() - t;
  if (!results.every((r) => r.code === 'OK')) throw new Error(`admissions failed: ${results.map((r) => r.code).join(',')}`);
  return {
    members: opts.members,
    proofs: opts.proofs,
    firstProofMs: round(times[0]!),
    proofMsMedian: round(median(times.slice(1))),
    proofMsMin: round(Math.min(...times.slice(1))),
    verifyPerSecOneCore: round(verifyPerSec),
    admissionsPerSecInBlock: round((txs.length * 1000) / blockMs),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values } = parseArgs({ options: { proofs: { type: 'string', default: '5' }, members: { type: 'string', default: '64' }, 'verify-ms': { type: 'string', default: '3000' } } });
  process.stderr.write('calibrating Ed25519 verify rate…\n');
  const cal = await calibrate();
  const a = await benchAnon({ proofs: Number(values.proofs), members: Number(values.members), verifyMs: Number(values['verify-ms']) });
  const report = { calibration: cal, anon: { ...a, verifyRatioToEd25519OneCore: Number((a.verifyPerSecOneCore / cal.verifyPerSecOneCore).toExponential(3)) } };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
}
