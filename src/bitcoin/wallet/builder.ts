import { base64 } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { bytesEqual, concatBytes, fromHexStrict, toHex } from '../../util/bytes.js';
import { hash32 } from '../bytes.js';
import { ANCHOR_ERRORS as E } from '../errors.js';
import { extractAnchorPayload } from '../tx.js';
import type { AnchorAddress, AnchorWallet } from './wallet.js';

/**
 * Builds and signs an anchor transaction with @scure/btc-signer:
 *
 *   inputs   every UTXO given, all of the current sender address (P2WPKH), sorted by (txid, vout),
 *            nSequence 0xfffffffd (final for lock time, replaceable: a stuck anchor can be fee-bumped)
 *   output 0 OP_RETURN <payload>, value 0
 *   output 1 the receiver (the wallet's next address): everything left after the fee ("sweep"), or a
 *            fixed `amount` if one is given
 *   output 2 with `amount` only: change back to the sender, dropped into the fee when below dust
 *
 * Fee = feeRate (integer sat/vB) × the signed transaction's virtual size. Signatures are low-R
 * (ground like Bitcoin Core's, RFC 6979 so still deterministic) and low-S: 71 bytes with the sighash
 * byte, except about 1 in 128 that come out a byte shorter. The fee is computed for 71-byte signatures,
 * the transaction signed once and measured; if it is smaller than estimated the fee exceeds
 * rate × vsize by less than one vbyte's worth (a rounding up), and if it were larger (not possible
 * with low-R) it would be rebuilt with the measured size.
 */

/** Bitcoin Core's dust threshold for a P2WPKH output at the default dust relay fee (3 sat/vB): 294 sat. */
export const P2WPKH_DUST_SATS = 294n;
/** Largest OP_RETURN payload Bitcoin Core relayed by default for years (-datacarriersize 83 = script of 80 data bytes). */
export const MAX_OP_RETURN_PAYLOAD = 80;
export const MAX_FEE_RATE = 100_000n;
export const ANCHOR_INPUT_SEQUENCE = 0xfffffffd;
const MAX_MONEY = 2_100_000_000_000_000n;

export interface AnchorUtxo {
  /** Display-order txid of the transaction that created the output. */
  txid: string;
  vout: number;
  /** Satoshis. */
  value: bigint;
}

export interface BuildAnchorTxRequest {
  wallet: AnchorWallet;
  /** Number of anchors made before this one; picks sender and receiver (wallet.rolesFor). */
  sequence: number;
  /** UTXOs of the sender address; all are spent. */
  utxos: readonly AnchorUtxo[];
  /** OP_RETURN data (the checkpoint payload), 1..80 bytes. */
  payload: Uint8Array;
  /** Integer sat/vB, 1..100,000. */
  feeRate: number | bigint;
  /** Fixed amount for the receiver, change to the sender; omitted: the receiver gets everything but the fee. */
  amount?: bigint;
}

export interface AnchorTxOutput {
  value: bigint;
  scriptHex: string;
  /** Address of a payment output; undefined for the OP_RETURN. */
  address?: string;
}

export interface SignedAnchorTx {
  rawHex: string;
  txid: string;
  wtxid: string;
  /** Finalised PSBT (BIP174, base64) with each input's witness UTXO: `bitcoin-cli finalizepsbt` extracts the same transaction. */
  psbtBase64: string;
  fee: bigint;
  feeRate: bigint;
  vsize: number;
  weight: number;
  sender: AnchorAddress;
  receiver: AnchorAddress;
  /** Inputs in the order spent. */
  inputs: AnchorUtxo[];
  outputs: AnchorTxOutput[];
  /** Change returned to the sender (0n when none). */
  change: bigint;
}

function checkFeeRate(feeRate: number | bigint): bigint {
  const ok = typeof feeRate === 'bigint' || (typeof feeRate === 'number' && Number.isSafeInteger(feeRate));
  const rate = ok ? BigInt(feeRate) : 0n;
  if (!ok || rate < 1n || rate > MAX_FEE_RATE) throw E.ANCHOR_FEE_RATE_INVALID(`fee rate must be an integer of 1..${MAX_FEE_RATE} sat/vB, got ${String(feeRate)}`);
  return rate;
}

function checkPayload(payload: Uint8Array): void {
  if (!(payload instanceof Uint8Array) || payload.length < 1 || payload.length > MAX_OP_RETURN_PAYLOAD) {
    throw E.ANCHOR_PAYLOAD_MALFORMED(`OP_RETURN payload must be 1..${MAX_OP_RETURN_PAYLOAD} bytes`);
  }
}

/** Validated, de-duplicated UTXOs in (txid, vout) order, and their total. */
function checkUtxos(utxos: readonly AnchorUtxo[]): { sorted: AnchorUtxo[]; total: bigint } {
  if (!Array.isArray(utxos) || utxos.length === 0) throw E.ANCHOR_INSUFFICIENT_FUNDS('the sender address has no UTXOs to spend');
  const seen = new Set<string>();
  let total = 0n;
  for (const u of utxos) {
    hash32(u.txid, E.ANCHOR_UTXO_INVALID, 'UTXO txid');
    if (!Number.isInteger(u.vout) || u.vout < 0 || u.vout > 0xffffffff) throw E.ANCHOR_UTXO_INVALID(`UTXO vout must be a 32-bit unsigned integer, got ${u.vout}`);
    if (typeof u.value !== 'bigint' || u.value <= 0n || u.value > MAX_MONEY) throw E.ANCHOR_UTXO_INVALID(`UTXO value must be a positive bigint of satoshis, got ${String(u.value)}`);
    const key = `${u.txid}:${u.vout}`;
    if (seen.has(key)) throw E.ANCHOR_UTXO_INVALID(`UTXO ${key} is listed twice`);
    seen.add(key);
    total += u.value;
  }
  if (total > MAX_MONEY) throw E.ANCHOR_UTXO_INVALID('UTXOs add up to more than 21 million BTC');
  const sorted = [...utxos].sort((a, b) => (a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout));
  return { sorted, total };
}

/** OP_RETURN followed by one minimal push (direct for ≤ 75 bytes, OP_PUSHDATA1 above). */
export function opReturnScript(payload: Uint8Array): Uint8Array {
  checkPayload(payload);
  const push = payload.length <= 75 ? new Uint8Array([payload.length]) : new Uint8Array([0x4c, payload.length]);
  return concatBytes(new Uint8Array([0x6a]), push, payload);
}

interface Plan {
  receiverValue: bigint;
  change: bigint;
}

/** Output values for a fee; throws ANCHOR_INSUFFICIENT_FUNDS when the fee cannot be paid with a non-dust receiver output. */
function planOutputs(total: bigint, fee: bigint, amount: bigint | undefined): Plan {
  if (amount === undefined) {
    const receiverValue = total - fee;
    if (receiverValue < P2WPKH_DUST_SATS) {
      throw E.ANCHOR_INSUFFICIENT_FUNDS(`UTXOs hold ${total} sat; after a fee of ${fee} sat the receiver would get ${receiverValue} sat, below the dust threshold of ${P2WPKH_DUST_SATS} sat — fund the sender address`);
    }
    return { receiverValue, change: 0n };
  }
  const change = total - amount - fee;
  if (change < 0n) throw E.ANCHOR_INSUFFICIENT_FUNDS(`UTXOs hold ${total} sat; ${amount} sat plus a fee of ${fee} sat are needed`);
  return { receiverValue: amount, change: change < P2WPKH_DUST_SATS ? 0n : change };
}

const compactSizeLength = (n: number) => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);

/**
 * Virtual size of the anchor transaction with P2WPKH inputs signed by 71-byte signatures:
 * stripped = version 4 + inputs (36 outpoint + 1 empty scriptSig + 4 sequence each) + outputs + lock time 4;
 * witness = marker and flag 2 + per input (1 item count + 1 + 71 signature + 1 + 33 public key).
 */
export function estimateVsize(inputs: number, payloadLength: number, withChange: boolean): number {
  const opReturn = opReturnScript(new Uint8Array(payloadLength)).length;
  const outputs = [opReturn, 22, ...(withChange ? [22] : [])];
  const stripped = 4 + compactSizeLength(inputs) + 41 * inputs + compactSizeLength(outputs.length) + outputs.reduce((s, len) => s + 8 + compactSizeLength(len) + len, 0) + 4;
  const witness = 2 + inputs * (1 + 1 + 71 + 1 + 33);
  return Math.ceil((4 * stripped + witness) / 4);
}

function signedTx(req: BuildAnchorTxRequest, inputs: AnchorUtxo[], plan: Plan, roles: { sender: AnchorAddress; receiver: AnchorAddress }): Transaction {
  const tx = new Transaction({ allowUnknownOutputs: true, lowR: true, version: 2, lockTime: 0 });
  const senderScript = fromHexStrict(roles.sender.scriptPubKey)!;
  for (const u of inputs) tx.addInput({ txid: u.txid, index: u.vout, sequence: ANCHOR_INPUT_SEQUENCE, witnessUtxo: { script: senderScript, amount: u.value } });
  tx.addOutput({ script: opReturnScript(req.payload), amount: 0n });
  tx.addOutput({ script: fromHexStrict(roles.receiver.scriptPubKey)!, amount: plan.receiverValue });
  if (plan.change > 0n) tx.addOutput({ script: senderScript, amount: plan.change });
  const key = req.wallet.privateKey(roles.sender.index);
  for (let i = 0; i < inputs.length; i++) tx.signIdx(key, i);
  key.fill(0);
  tx.finalize();
  return tx;
}

/** Builds, signs and self-checks the anchor transaction (see the file comment for its shape and fee rule). */
export function buildAnchorTx(req: BuildAnchorTxRequest): SignedAnchorTx {
  const feeRate = checkFeeRate(req.feeRate);
  checkPayload(req.payload);
  if (req.amount !== undefined && (typeof req.amount !== 'bigint' || req.amount < P2WPKH_DUST_SATS || req.amount > MAX_MONEY)) {
    throw E.ANCHOR_AMOUNT_INVALID(`amount must be a bigint of at least ${P2WPKH_DUST_SATS} sat (dust threshold), got ${String(req.amount)}`);
  }
  const roles = req.wallet.rolesFor(req.sequence);
  const { sorted, total } = checkUtxos(req.utxos);
  const change = req.amount !== undefined && planOutputs(total, 0n, req.amount).change > 0n;
  let fee = feeRate * BigInt(estimateVsize(sorted.length, req.payload.length, change));
  for (let round = 0; round < 8; round++) {
    const plan = planOutputs(total, fee, req.amount);
    const tx = signedTx(req, sorted, plan, roles);
    const paid = total - plan.receiverValue - plan.change;
    const needed = feeRate * BigInt(tx.vsize);
    if (paid >= needed) return describe(tx, { feeRate, paid, plan, roles, inputs: sorted, payload: req.payload });
    fee = needed;
  }
  throw E.ANCHOR_FEE_RATE_INVALID('the fee did not settle after 8 rounds of signing (should not happen)');
}

function describe(
  tx: Transaction,
  d: { feeRate: bigint; paid: bigint; plan: Plan; roles: { sender: AnchorAddress; receiver: AnchorAddress }; inputs: AnchorUtxo[]; payload: Uint8Array },
): SignedAnchorTx {
  const raw = tx.extract();
  // Self-check with the same parser verifiers use: one OP_RETURN carrying exactly the payload.
  const parsed = extractAnchorPayload(raw);
  if (!bytesEqual(parsed.payload, d.payload) || parsed.txid !== tx.id) throw E.ANCHOR_BTC_TX_MALFORMED('built transaction does not parse back to its payload and txid (bug)');
  const addressOf = (scriptHex: string) => [d.roles.sender, d.roles.receiver].find((a) => a.scriptPubKey === scriptHex)?.address;
  return {
    rawHex: toHex(raw),
    txid: parsed.txid,
    wtxid: parsed.wtxid,
    psbtBase64: base64.encode(tx.toPSBT()),
    fee: d.paid,
    feeRate: d.feeRate,
    vsize: parsed.vsize,
    weight: parsed.weight,
    sender: d.roles.sender,
    receiver: d.roles.receiver,
    inputs: d.inputs,
    outputs: parsed.outputs.map((o) => ({ value: o.value, scriptHex: o.scriptHex, address: addressOf(o.scriptHex) })),
    change: d.plan.change,
  };
}
