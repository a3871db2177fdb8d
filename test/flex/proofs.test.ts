import * as snarkjs from 'snarkjs';
import { describe, expect, it } from 'vitest';
import { flex } from '../../src/modules/flex/index.js';
import { eventField } from '../../src/modules/flex/keeper.js';
import { loadSnarkjsVerifyingKey } from '../../src/zk/artifacts.js';
import { deviationPublicInputs } from '../../src/zk/circuits.js';
import { proofToSnarkjs } from '../../src/zk/encoding.js';
import { SCALAR_FIELD_MODULUS } from '../../src/zk/field.js';
import { proveCircuit } from '../../src/zk/prove.js';
import { activeEvent, agg, balance, CHAIN_ID, commitmentOf, eventAttr, GENESIS_TIME, HOUR, m, meter1, NOK, ok, proofFor, pros, rejects } from './helpers.js';

/**
 * The bad-proof cases, each handled by its rule: a well-formed proof that does not verify
 * forfeits the remaining deposit (a committed outcome with its own event); a malformed one is
 * rejected and changes nothing. The event has two hourly intervals requesting 500 and 400 Wh;
 * the meter measured 430 and 455 Wh.
 */
const START = GENESIS_TIME + HOUR;
const END0 = START + HOUR;
const END1 = START + 2 * HOUR;
const VALUE = [430n, 455n];
const SALT = [987_654_321_123n, 55_555_555_555n];
const REQ = [500, 400];

/** ev1 active with both intervals committed (and a second event ev2 with the same profile, also committed). */
function committed() {
  const chain = activeEvent(REQ);
  ok(chain, agg, m.event({ start: START }));
  ok(chain, pros, m.enrol('ev2', 'M1'));
  ok(chain, meter1, [m.commit('ev1', 0, commitmentOf(VALUE[0]!, SALT[0]!)), m.commit('ev2', 0, commitmentOf(VALUE[0]!, SALT[0]!))], END0 + 1000);
  ok(chain, meter1, [m.commit('ev1', 1, commitmentOf(VALUE[1]!, SALT[1]!)), m.commit('ev2', 1, commitmentOf(VALUE[1]!, SALT[1]!))], END1 + 1000);
  return chain;
}
const good = (interval: number, event = 'ev1') => proofFor({ value: VALUE[interval]!, salt: SALT[interval]!, requested: REQ[interval]!, event, interval });
const view = (chain: ReturnType<typeof committed>, id = 'ev1') => chain.query(flex, 'flexEvent', { id });

function expectForfeited(chain: ReturnType<typeof committed>, res: any, interval: number, claimed: number) {
  expect(res.code).toBe('OK');
  expect(eventAttr(res, 'flex.proof_invalid', 'forfeited')).toBe(String(2n * NOK));
  expect(eventAttr(res, 'flex.proof_invalid', 'claimedDeviationWh')).toBe(String(claimed));
  const v = view(chain);
  expect(v.event).toMatchObject({ status: 'forfeited', paidToAggregator: String(2n * NOK), paidToProsumer: '0', remaining: '0' });
  expect(v.intervals.map((r: any) => r.status)).toEqual(interval === 0 ? ['invalid-proof', 'forfeited'] : ['forfeited', 'invalid-proof']);
  expect(balance(chain, pros)).toBe(0n);
  // and nothing more can happen to the event
  rejects(chain, pros, m.prove('ev1', 1 - interval, 0, {}), 'FLEX_EVENT_NOT_ACTIVE');
}

describe('proofs of deviation', () => {
  it('a valid proof settles the interval with penalty = deviation × rate, capped at the share; the prosumer gets the rest', async () => {
    const chain = committed();
    ok(chain, pros, m.prove('ev1', 0, 70, await good(0)));
    ok(chain, meter1, m.prove('ev1', 1, 55, await good(1))); // the meter's edge may prove too
    const v = view(chain);
    expect(v.intervals.map((r: any) => [r.status, r.deviationWh, r.toAggregator])).toEqual([
      ['proved', 70, String(70n * 2000n)],
      ['proved', 55, String(55n * 2000n)],
    ]);
    expect(v.event).toMatchObject({ status: 'completed', paidToProsumer: String(2n * NOK - 125n * 2000n) });
    expect(balance(chain, pros)).toBe(2n * NOK - 250_000n);
  });

  it('the node verifier agrees with snarkjs on the proof and the public inputs the ledger builds', async () => {
    const proof = await good(0);
    const inputs = deviationPublicInputs({ commitment: commitmentOf(VALUE[0]!, SALT[0]!), requested: 500n, deviation: 70n, eventId: eventField(CHAIN_ID, 'ev1'), intervalIndex: 0n });
    const vk = loadSnarkjsVerifyingKey('deviation');
    expect(await snarkjs.groth16.verify(vk, inputs, proofToSnarkjs(proof))).toBe(true);
    expect(await snarkjs.groth16.verify(vk, inputs.map((x, i) => (i === 2 ? '71' : x)), proofToSnarkjs(proof))).toBe(false);
  });

  it('a wrong deviation with a real proof forfeits the remaining deposit', async () => {
    const chain = committed();
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 0, 69, await good(0))), 0, 69);
    expect(balance(chain, agg)).toBe(1000n * NOK - 2n * NOK); // ev2's deposit is still in escrow
  });

  it('a proof for another interval forfeits the deposit', async () => {
    const chain = committed();
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 1, 70, await good(0))), 1, 70);
  });

  it('a proof made for another event (same commitment, same interval) forfeits the deposit of the event it is sent to', async () => {
    const chain = committed();
    ok(chain, pros, m.prove('ev2', 0, 70, await good(0, 'ev2'))); // valid where it belongs
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 0, 70, await good(0, 'ev2'))), 0, 70);
  });

  it('a proof on another chain does not verify here (the chain id is bound into the event id)', async () => {
    const chain = committed();
    const foreign = await proofFor({ value: VALUE[0]!, salt: SALT[0]!, requested: 500, event: 'ev1', interval: 0, chainId: 'other-chain' });
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 0, 70, foreign)), 0, 70);
  });

  it('a proof against a different commitment (another salt) forfeits the deposit', async () => {
    const chain = committed();
    const other = await proofFor({ value: VALUE[0]!, salt: SALT[0]! + 1n, requested: 500, event: 'ev1', interval: 0 });
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 0, 70, other)), 0, 70);
  });

  it('a tampered proof: a valid curve point swapped in forfeits the deposit; coordinates off the curve are rejected as malformed', async () => {
    const proof = await good(0);
    let chain = committed();
    // −A is still a valid G1 point: a well-formed proof that fails the pairing check
    const p = BigInt('21888242871839275222246405745257275088696311157297823662689037894645226208583');
    const negated = { ...proof, a: [proof.a[0], (p - BigInt(proof.a[1])).toString()] };
    expectForfeited(chain, chain.send(pros, m.prove('ev1', 0, 70, negated)), 0, 70);
    chain = committed();
    rejects(chain, pros, m.prove('ev1', 0, 70, { ...proof, a: [proof.a[0], (BigInt(proof.a[1]) + 1n).toString()] }), 'FLEX_PROOF_MALFORMED');
    rejects(chain, pros, m.prove('ev1', 0, 70, { ...proof, c: [proof.c[0], proof.c[1], '1'] }), 'FLEX_PROOF_MALFORMED');
    rejects(chain, pros, m.prove('ev1', 0, 70, 'not a proof'), 'FLEX_PROOF_MALFORMED');
    rejects(chain, pros, m.prove('ev1', 0, 70, { ...proof, b: [proof.b[1], proof.b[0]] }), 'FLEX_PROOF_MALFORMED');
    // the event is untouched: the real proof still settles it
    ok(chain, pros, m.prove('ev1', 0, 70, proof));
  });

  it('a value outside the range check cannot produce a proof: the wrap-around attempt has no witness', async () => {
    // value = r − 1 ≡ −1: with requested 0, "deviation" 1 would hold modulo r without the range checks
    const value = SCALAR_FIELD_MODULUS - 1n;
    const salt = 5n;
    const signals = { commitment: commitmentOf(value, salt), requested: 0n, deviation: 1n, eventId: eventField(CHAIN_ID, 'ev1'), intervalIndex: 0n, value, salt };
    await expect(proveCircuit('deviation', signals)).rejects.toMatchObject({ code: 'ZK_WITNESS_FAILED' });
    // and 2^40 (one above the range) neither
    await expect(proveCircuit('deviation', { ...signals, value: 2n ** 40n, commitment: commitmentOf(2n ** 40n, salt), deviation: 2n ** 40n, requested: 0n })).rejects.toMatchObject({ code: 'ZK_WITNESS_FAILED' });
  });
});

describe('the proof rules', () => {
  it('reject proofs before a commitment, twice for one interval, from others, after the deadline, and above the per-block cap', async () => {
    const chain = activeEvent(REQ, { genesisFlex: { maxProofsPerBlock: 1, proofWindowMs: 2 * HOUR } });
    rejects(chain, pros, m.prove('ev1', 0, 70, await good(0)), 'FLEX_NO_COMMITMENT', END0 + 1000);
    ok(chain, meter1, m.commit('ev1', 0, commitmentOf(VALUE[0]!, SALT[0]!)), END0 + 2000);
    rejects(chain, agg, m.prove('ev1', 0, 70, await good(0)), 'FLEX_NOT_PROVER');
    rejects(chain, pros, m.prove('ev1', 2, 70, await good(0)), 'FLEX_INTERVAL_INVALID');
    // two proofs in one block with a cap of one: the second is refused, the first settles
    ok(chain, meter1, m.commit('ev1', 1, commitmentOf(VALUE[1]!, SALT[1]!)), END1 + 1000);
    const results = chain.block([chain.tx(pros, [m.prove('ev1', 0, 70, await good(0))]), chain.tx(meter1, [m.prove('ev1', 1, 55, await good(1))])], END1 + 2000);
    expect(results.map((r) => r.code)).toEqual(['OK', 'FLEX_BLOCK_PROOF_CAP']);
    rejects(chain, pros, m.prove('ev1', 0, 70, await good(0)), 'FLEX_INTERVAL_SETTLED');
    // interval 1's deadline (its end + 2 h) passes: the proof comes too late, the interval is missed at the end of that block
    const late = chain.send(pros, m.prove('ev1', 1, 55, await good(1)), END1 + 2 * HOUR);
    expect(late.code).toBe('FLEX_DEADLINE_PASSED');
    expect(view(chain).intervals.map((r: any) => r.status)).toEqual(['proved', 'missed']);
    expect(view(chain).event).toMatchObject({ status: 'completed', paidToAggregator: String(70n * 2000n + NOK), paidToProsumer: String(NOK - 140_000n) });
  });
});
