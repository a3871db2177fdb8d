import { Transaction } from '@scure/btc-signer';
import { bytesEqual, fromHexStrict, toHex } from '../util/bytes.js';
import { sha256d, toDisplayHex } from './bytes.js';
import { ANCHOR_ERRORS as E } from './errors.js';

/**
 * Parsing raw Bitcoin transactions (legacy and SegWit) with @scure/btc-signer, and finding the one
 * OP_RETURN payload. Pure: the state machine runs it on the raw transaction an operator records.
 */

/** 400,000 bytes: a standard transaction's weight limit, so nothing larger can be an anchor. */
export const MAX_RAW_TX_BYTES = 400_000;
const OP_RETURN = 0x6a;
const OP_PUSHDATA1 = 0x4c;

export interface BitcoinTxInput {
  /** Previous transaction's txid (display order). */
  txid: string;
  vout: number;
  sequence: number;
  scriptSigHex: string;
  /** Witness stack items (hex); empty for a legacy input. */
  witness: string[];
}

export interface BitcoinTxOutput {
  /** Satoshis. */
  value: bigint;
  scriptHex: string;
}

export interface ParsedBitcoinTx {
  /** Display-order txid: double SHA-256 of the serialisation without witness data. */
  txid: string;
  /** Display-order wtxid: double SHA-256 of the full serialisation (equals txid without witnesses). */
  wtxid: string;
  version: number;
  lockTime: number;
  inputs: BitcoinTxInput[];
  outputs: BitcoinTxOutput[];
  hasWitness: boolean;
  /** Serialised size without witness data (BIP141 "stripped size"). */
  strippedSize: number;
  totalSize: number;
  /** BIP141 weight = 3 × stripped size + total size. */
  weight: number;
  /** Virtual size = ceil(weight / 4). */
  vsize: number;
}

function decodeRaw(raw: Uint8Array): Transaction {
  try {
    // disableScriptCheck: parsing only; scripts this library cannot sign (P2PK, bare multisig) are still valid outputs.
    return Transaction.fromRaw(raw, { allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true, allowUnknownVersion: true });
  } catch (err) {
    throw E.ANCHOR_BTC_TX_MALFORMED(`not a Bitcoin transaction: ${(err as Error).message}`);
  }
}

/**
 * Parses one raw transaction. Refuses trailing bytes, no inputs or outputs, and any encoding that
 * does not re-serialise to the same bytes (e.g. a SegWit marker with only empty witnesses, which
 * Bitcoin Core rejects as superfluous), so one transaction has exactly one accepted byte form.
 */
export function parseBitcoinTx(raw: Uint8Array | string): ParsedBitcoinTx {
  const bytes = typeof raw === 'string' ? fromHexStrict(raw) : raw;
  if (!(bytes instanceof Uint8Array)) throw E.ANCHOR_BTC_TX_MALFORMED('raw transaction must be bytes or lowercase hex');
  if (bytes.length > MAX_RAW_TX_BYTES) throw E.ANCHOR_BTC_TX_TOO_LARGE(`raw transaction has ${bytes.length} bytes, at most ${MAX_RAW_TX_BYTES} are parsed`);
  const tx = decodeRaw(bytes);
  if (tx.inputsLength === 0 || tx.outputsLength === 0) throw E.ANCHOR_BTC_TX_MALFORMED('a transaction needs at least one input and one output');
  let full: Uint8Array;
  let stripped: Uint8Array;
  try {
    full = tx.toBytes(true, true);
    stripped = tx.toBytes(true, false);
  } catch (err) {
    throw E.ANCHOR_BTC_TX_MALFORMED(`transaction does not re-serialise: ${(err as Error).message}`);
  }
  if (!bytesEqual(full, bytes)) throw E.ANCHOR_BTC_TX_MALFORMED('transaction encoding is not canonical (it does not re-serialise to the same bytes)');
  const inputs: BitcoinTxInput[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const input = tx.getInput(i);
    inputs.push({
      txid: toHex(input.txid!),
      vout: input.index!,
      sequence: input.sequence!,
      scriptSigHex: toHex(input.finalScriptSig ?? new Uint8Array(0)),
      witness: (input.finalScriptWitness ?? []).map(toHex),
    });
  }
  const outputs: BitcoinTxOutput[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const output = tx.getOutput(i);
    outputs.push({ value: output.amount!, scriptHex: toHex(output.script!) });
  }
  const weight = 3 * stripped.length + full.length;
  return {
    txid: toDisplayHex(sha256d(stripped)),
    wtxid: toDisplayHex(sha256d(full)),
    version: tx.version,
    lockTime: tx.lockTime,
    inputs,
    outputs,
    hasWitness: full.length !== stripped.length,
    strippedSize: stripped.length,
    totalSize: full.length,
    weight,
    vsize: (weight + 3) >> 2,
  };
}

/** Whether an output script is a data carrier (starts with OP_RETURN), well-formed or not. */
export function isOpReturnScript(script: Uint8Array): boolean {
  return script.length > 0 && script[0] === OP_RETURN;
}

/**
 * The data of an OP_RETURN script that is exactly OP_RETURN followed by one push of 1..255 bytes in
 * its minimal form (a direct push for 1..75 bytes, OP_PUSHDATA1 for 76..255). Several pushes, other
 * opcodes or a non-minimal push would give the same output more than one reading: refused.
 */
export function opReturnData(script: Uint8Array): Uint8Array {
  if (!isOpReturnScript(script)) throw E.ANCHOR_BTC_OP_RETURN_MALFORMED('script does not start with OP_RETURN');
  const op = script[1];
  if (op !== undefined && op >= 1 && op <= 75) {
    if (script.length !== 2 + op) throw E.ANCHOR_BTC_OP_RETURN_MALFORMED(`OP_RETURN must be followed by exactly one push of ${op} bytes and nothing else`);
    return script.slice(2);
  }
  if (op === OP_PUSHDATA1) {
    const len = script[2];
    if (len === undefined || len < 76) throw E.ANCHOR_BTC_OP_RETURN_MALFORMED('OP_PUSHDATA1 is only minimal for 76..255 bytes');
    if (script.length !== 3 + len) throw E.ANCHOR_BTC_OP_RETURN_MALFORMED(`OP_RETURN must be followed by exactly one push of ${len} bytes and nothing else`);
    return script.slice(3);
  }
  throw E.ANCHOR_BTC_OP_RETURN_MALFORMED('OP_RETURN must be followed by exactly one data push of 1..255 bytes');
}

export interface OpReturnPayload {
  outputIndex: number;
  value: bigint;
  payload: Uint8Array;
}

/** The payload of the transaction's only OP_RETURN output; none or several is a typed error. */
export function findOpReturnPayload(tx: ParsedBitcoinTx): OpReturnPayload {
  const found = tx.outputs.map((o, i) => ({ o, i })).filter(({ o }) => o.scriptHex.startsWith('6a'));
  if (found.length === 0) throw E.ANCHOR_BTC_NO_OP_RETURN(`transaction ${tx.txid} has no OP_RETURN output`);
  if (found.length > 1) throw E.ANCHOR_BTC_MULTIPLE_OP_RETURN(`transaction ${tx.txid} has ${found.length} OP_RETURN outputs (${found.map((f) => f.i).join(', ')}); the payload would be ambiguous`);
  const { o, i } = found[0]!;
  return { outputIndex: i, value: o.value, payload: opReturnData(fromHexStrict(o.scriptHex)!) };
}

/** Parses a raw transaction and returns its ids and its single OP_RETURN payload. */
export function extractAnchorPayload(raw: Uint8Array | string): ParsedBitcoinTx & OpReturnPayload {
  const tx = parseBitcoinTx(raw);
  return { ...tx, ...findOpReturnPayload(tx) };
}
