import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkpointPayload, extractAnchorPayload, type BitcoinNetwork } from '../../src/bitcoin/index.js';
import { AnchorWallet, buildAnchorTx, P2WPKH_DUST_SATS, type AnchorUtxo, type BuildAnchorTxRequest, type SignedAnchorTx } from '../../src/bitcoin/service.js';
import { toHex } from '../../src/util/bytes.js';
import { BIP143_P2WPKH } from './fixtures.js';
import { verifyWithPython, type PyPrevout } from './python.js';

const h = (s: string) => createHash('sha256').update(s).digest('hex');
const seed = new Uint8Array(createHash('sha256').update('gridledger anchor test seed').digest());
const wallets = Object.fromEntries((['mainnet', 'testnet', 'signet', 'regtest'] as const).map((n) => [n, AnchorWallet.fromSeed({ seed, network: n })])) as Record<BitcoinNetwork, AnchorWallet>;
const utxos = (n: number, value: bigint, tag = 'u'): AnchorUtxo[] => Array.from({ length: n }, (_, i) => ({ txid: h(`${tag}-${i}`), vout: i % 3, value: value + BigInt(i) * 1000n }));
const payloadFor = (height: number) => checkpointPayload({ chainId: 'gridledger-test', height, blockHash: h(`b${height}`), stateRoot: h(`s${height}`), intervalRoot: h(`i${height}`) });

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'untyped';
  }
  return 'no error';
};

interface Case {
  name: string;
  network: BitcoinNetwork;
  req: Omit<BuildAnchorTxRequest, 'wallet'>;
  expectChange: boolean;
}

const cases: Case[] = [
  { name: 'regtest, 1 input, sweep', network: 'regtest', req: { sequence: 0, utxos: utxos(1, 50_000n), payload: payloadFor(3600), feeRate: 1 }, expectChange: false },
  { name: 'regtest, 3 inputs, sweep, second anchor (roles swapped)', network: 'regtest', req: { sequence: 1, utxos: utxos(3, 20_000n, 'r3'), payload: payloadFor(7200), feeRate: 2 }, expectChange: false },
  { name: 'testnet, 2 inputs, fixed amount with change', network: 'testnet', req: { sequence: 0, utxos: utxos(2, 100_000n, 't2'), payload: payloadFor(10800), feeRate: 5, amount: 10_000n }, expectChange: true },
  { name: 'signet, 5 inputs, sweep', network: 'signet', req: { sequence: 4, utxos: utxos(5, 3_000n, 's5'), payload: payloadFor(14400), feeRate: 3 }, expectChange: false },
  { name: 'mainnet, 1 input, amount leaving dust change (dropped into the fee)', network: 'mainnet', req: { sequence: 0, utxos: [{ txid: h('m1'), vout: 7, value: 20_000n }], payload: payloadFor(18000), feeRate: 10, amount: 18_000n }, expectChange: false },
  { name: 'mainnet, 2 inputs, 80-byte payload (OP_PUSHDATA1), with change', network: 'mainnet', req: { sequence: 3, utxos: utxos(2, 500_000n, 'm2'), payload: new Uint8Array(80).fill(0xab), feeRate: 25, amount: 100_000n }, expectChange: true },
];

const prevoutsOf = (tx: SignedAnchorTx): PyPrevout[] => tx.inputs.map((u) => ({ scriptPubKey: tx.sender.scriptPubKey, amount: Number(u.value) }));

describe('anchor transactions checked by python-bitcoinlib', () => {
  const built = cases.map((c) => ({ c, tx: buildAnchorTx({ wallet: wallets[c.network], ...c.req }) }));

  for (const network of ['mainnet', 'testnet', 'signet', 'regtest'] as const) {
    const mine = built.filter((b) => b.c.network === network);
    it(`${network}: ${mine.map((b) => b.c.name).join('; ')}`, () => {
      const { results } = verifyWithPython(network, mine.map(({ tx }) => ({ rawHex: tx.rawHex, prevouts: prevoutsOf(tx) })));
      mine.forEach(({ c, tx }, k) => {
        const py = results[k]!;
        expect(py.error, c.name).toBeUndefined();
        expect(py.txid, c.name).toBe(tx.txid);
        expect(py.wtxid, c.name).toBe(tx.wtxid);
        expect(py.inputs, c.name).toEqual(tx.inputs.map(() => ({ type: 'p2wpkh', valid: true })));
        expect(py.opReturns, c.name).toEqual([{ index: 0, ops: 2, pushes: [toHex(c.req.payload)], value: 0 }]);
        const total = c.req.utxos.reduce((s, u) => s + u.value, 0n);
        const expectedOutputs = [{ value: 0, address: null }, { value: Number(c.req.amount ?? total - tx.fee), address: tx.receiver.address }];
        if (c.expectChange) expectedOutputs.push({ value: Number(tx.change), address: tx.sender.address });
        expect(py.outputs, c.name).toEqual(expectedOutputs);
        expect(tx.receiver.address).not.toBe(tx.sender.address);
        expect(BigInt(py.fee), c.name).toBe(tx.fee);
        expect(py.vsize, c.name).toBe(tx.vsize);
        const rate = BigInt(c.req.feeRate);
        expect(tx.fee >= rate * BigInt(py.vsize), c.name).toBe(true);
        if (c.req.amount === undefined || c.expectChange) expect(tx.fee - rate * BigInt(py.vsize) < rate, `${c.name}: fee is rate x vsize to within one vbyte`).toBe(true);
        else expect(total - c.req.amount - tx.fee, c.name).toBe(0n);
      });
    });
  }

  it('the checker is not vacuous: the BIP143 example verifies, a changed amount or output does not', () => {
    const [ok, wrongAmount, tampered] = verifyWithPython('regtest', [
      { rawHex: BIP143_P2WPKH.raw, prevouts: BIP143_P2WPKH.prevouts },
      { rawHex: built[0]!.tx.rawHex, prevouts: prevoutsOf(built[0]!.tx).map((p) => ({ ...p, amount: p.amount + 1 })) },
      // Receiver output value +1 sat (8-byte little-endian value right after the OP_RETURN output).
      { rawHex: tamperReceiverValue(built[0]!.tx.rawHex), prevouts: prevoutsOf(built[0]!.tx) },
    ]).results;
    expect(ok!.inputs).toEqual([{ type: 'legacy', valid: true }, { type: 'p2wpkh', valid: true }]);
    expect(ok!.txid).toBe('e8151a2af31c368a35053ddd4bdb285a8595c769a3ad83e0fa02314a602d4609');
    expect(ok!.wtxid).toBe('c36c38370907df2324d9ce9d149d191192f338b37665a82e78e76a12c909b762');
    expect(wrongAmount!.inputs[0]!.valid).toBe(false);
    expect(tampered!.inputs[0]!.valid).toBe(false);
  });
});

function tamperReceiverValue(rawHex: string): string {
  const parsed = extractAnchorPayload(rawHex);
  const opReturnScript = parsed.outputs[0]!.scriptHex;
  const at = rawHex.indexOf(opReturnScript) + opReturnScript.length;
  const value = Buffer.from(rawHex.slice(at, at + 16), 'hex');
  value.writeBigUInt64LE(value.readBigUInt64LE() + 1n);
  return rawHex.slice(0, at) + value.toString('hex') + rawHex.slice(at + 16);
}

describe('buildAnchorTx rules', () => {
  const wallet = wallets.regtest;
  const base = { wallet, sequence: 0, utxos: utxos(2, 10_000n), payload: payloadFor(1), feeRate: 2 } satisfies BuildAnchorTxRequest;

  it('is deterministic and independent of the UTXO order', () => {
    const a = buildAnchorTx(base);
    const b = buildAnchorTx({ ...base, utxos: [...base.utxos].reverse() });
    expect(b.rawHex).toBe(a.rawHex);
    expect(a.inputs.map((u) => u.txid)).toEqual([...base.utxos.map((u) => u.txid)].sort());
  });

  it('pays from the sender to the other address; one OP_RETURN first; replaceable inputs; PSBT carries the same tx', async () => {
    const tx = buildAnchorTx(base);
    const parsed = extractAnchorPayload(tx.rawHex);
    expect(parsed.outputIndex).toBe(0);
    expect(parsed.inputs.every((i) => i.sequence === 0xfffffffd)).toBe(true);
    expect(tx.outputs[1]!.scriptHex).toBe(wallet.address(1).scriptPubKey);
    const { Transaction } = await import('@scure/btc-signer');
    const fromPsbt = Transaction.fromPSBT(Buffer.from(tx.psbtBase64, 'base64'), { allowUnknownOutputs: true });
    expect(toHex(fromPsbt.extract())).toBe(tx.rawHex);
  });

  it('fee grows with the fee rate and equals rate x vsize', () => {
    for (const feeRate of [1, 7, 50]) {
      const tx = buildAnchorTx({ ...base, feeRate });
      expect(tx.fee >= BigInt(feeRate * tx.vsize) && tx.fee < BigInt(feeRate * (tx.vsize + 1))).toBe(true);
    }
  });

  it('refuses insufficient funds, dust, bad fee rates, bad UTXOs and oversize payloads with typed errors', () => {
    expect(code(() => buildAnchorTx({ ...base, utxos: [{ txid: h('tiny'), vout: 0, value: 400n }] }))).toBe('ANCHOR_INSUFFICIENT_FUNDS');
    expect(code(() => buildAnchorTx({ ...base, utxos: [] }))).toBe('ANCHOR_INSUFFICIENT_FUNDS');
    expect(code(() => buildAnchorTx({ ...base, amount: 20_500n }))).toBe('ANCHOR_INSUFFICIENT_FUNDS');
    expect(code(() => buildAnchorTx({ ...base, amount: P2WPKH_DUST_SATS - 1n }))).toBe('ANCHOR_AMOUNT_INVALID');
    for (const feeRate of [0, -1, 1.5, 100_001, Number.NaN]) expect(code(() => buildAnchorTx({ ...base, feeRate })), String(feeRate)).toBe('ANCHOR_FEE_RATE_INVALID');
    expect(code(() => buildAnchorTx({ ...base, utxos: [base.utxos[0]!, base.utxos[0]!] }))).toBe('ANCHOR_UTXO_INVALID');
    expect(code(() => buildAnchorTx({ ...base, utxos: [{ txid: 'xyz', vout: 0, value: 1000n }] }))).toBe('ANCHOR_UTXO_INVALID');
    expect(code(() => buildAnchorTx({ ...base, utxos: [{ txid: h('z'), vout: 0, value: 0n }] }))).toBe('ANCHOR_UTXO_INVALID');
    expect(code(() => buildAnchorTx({ ...base, payload: new Uint8Array(81) }))).toBe('ANCHOR_PAYLOAD_MALFORMED');
    expect(code(() => buildAnchorTx({ ...base, payload: new Uint8Array(0) }))).toBe('ANCHOR_PAYLOAD_MALFORMED');
  });

  it('sweeps down to the dust threshold and no further', () => {
    // One input, 1 sat/vB: the smallest sweep that still leaves a 294-sat output.
    const probe = buildAnchorTx({ ...base, utxos: [{ txid: h('edge'), vout: 0, value: 10_000n }], feeRate: 1 });
    const edge = probe.fee + P2WPKH_DUST_SATS;
    const ok = buildAnchorTx({ ...base, utxos: [{ txid: h('edge'), vout: 0, value: edge }], feeRate: 1 });
    expect(ok.outputs[1]!.value).toBe(P2WPKH_DUST_SATS);
    expect(code(() => buildAnchorTx({ ...base, utxos: [{ txid: h('edge'), vout: 0, value: edge - 1n }], feeRate: 1 }))).toBe('ANCHOR_INSUFFICIENT_FUNDS');
  });
});
