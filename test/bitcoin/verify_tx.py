#!/usr/bin/env python3
"""Independent check of GridLedger anchor transactions with python-bitcoinlib (Debian: python3-bitcoinlib).

Reads JSON from stdin: {"network": "regtest", "txs": [{"rawHex": "...", "prevouts": [{"scriptPubKey": "hex", "amount": sats}]}]}
and prints one JSON result per transaction: txid, wtxid, the single OP_RETURN payload, each input's
verification, the output addresses, fee and virtual size.

What python-bitcoinlib 0.11 offers: VerifyScript evaluates legacy scripts only (no witness argument),
but SignatureHash implements BIP143 (SIGVERSION_WITNESS_V0 with the spent amount). A P2WPKH input is
therefore checked as BIP141 defines it: empty scriptSig, witness [signature, pubkey], HASH160(pubkey)
equal to the 20-byte program, signature (strict low-S DER, SIGHASH_ALL) valid over the BIP143 hash of
the P2PKH script code. Legacy inputs go through VerifyScript with P2SH, STRICTENC, DERSIG and LOW_S.
"""
import json
import sys

import bitcoin
from bitcoin.core import CTransaction, b2lx, Hash160, x
from bitcoin.core.key import CPubKey
from bitcoin.core.script import (
    CScript, IsLowDERSignature, OP_CHECKSIG, OP_DUP, OP_EQUALVERIFY, OP_HASH160, OP_RETURN,
    SIGHASH_ALL, SIGVERSION_WITNESS_V0, SignatureHash,
)
from bitcoin.core.scripteval import (
    SCRIPT_VERIFY_DERSIG, SCRIPT_VERIFY_LOW_S, SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_STRICTENC, VerifyScript,
)
from bitcoin.wallet import CBitcoinAddress

NETWORK_PARAMS = {"mainnet": "mainnet", "testnet": "testnet", "signet": "signet", "regtest": "regtest"}


def verify_p2wpkh(tx, i, script_pubkey, amount):
    if len(tx.vin[i].scriptSig) != 0:
        raise ValueError("P2WPKH input must have an empty scriptSig")
    stack = list(tx.wit.vtxinwit[i].scriptWitness.stack) if i < len(tx.wit.vtxinwit) else []
    if len(stack) != 2:
        raise ValueError("P2WPKH witness must be [signature, pubkey], got %d items" % len(stack))
    sig, pub = stack
    pubkey = CPubKey(pub)
    if len(pub) != 33 or not pubkey.is_fullyvalid:
        raise ValueError("witness pubkey is not a valid compressed key")
    if Hash160(pub) != bytes(script_pubkey[2:]):
        raise ValueError("HASH160(pubkey) differs from the witness program")
    if len(sig) < 9 or sig[-1] != SIGHASH_ALL:
        raise ValueError("signature must end in SIGHASH_ALL")
    if not IsLowDERSignature(sig[:-1]):
        raise ValueError("signature is not low-S DER")
    script_code = CScript([OP_DUP, OP_HASH160, Hash160(pub), OP_EQUALVERIFY, OP_CHECKSIG])
    sighash = SignatureHash(script_code, tx, i, SIGHASH_ALL, amount=amount, sigversion=SIGVERSION_WITNESS_V0)
    if not pubkey.verify(sighash, sig[:-1]):
        raise ValueError("ECDSA signature does not verify against the BIP143 hash")


def verify_input(tx, i, prevout):
    script_pubkey = CScript(x(prevout["scriptPubKey"]))
    amount = int(prevout["amount"])
    program = bytes(script_pubkey)
    if len(program) == 22 and program[0] == 0 and program[1] == 20:
        verify_p2wpkh(tx, i, script_pubkey, amount)
        return "p2wpkh"
    if script_pubkey.is_witness_scriptpubkey():
        raise ValueError("witness program other than P2WPKH is not checked here")
    VerifyScript(tx.vin[i].scriptSig, script_pubkey, tx, i,
                 (SCRIPT_VERIFY_P2SH, SCRIPT_VERIFY_STRICTENC, SCRIPT_VERIFY_DERSIG, SCRIPT_VERIFY_LOW_S))
    return "legacy"


def op_return_payloads(tx):
    found = []
    for n, out in enumerate(tx.vout):
        script = out.scriptPubKey
        if len(script) == 0 or script[0] != OP_RETURN:
            continue
        ops = list(script.raw_iter())
        pushes = [data for (_op, data, _idx) in ops[1:] if data is not None]
        found.append({"index": n, "ops": len(ops), "pushes": [d.hex() for d in pushes], "value": out.nValue})
    return found


def address_of(script):
    try:
        return str(CBitcoinAddress.from_scriptPubKey(script))
    except Exception:  # OP_RETURN and other non-address scripts
        return None


def check(entry):
    raw = x(entry["rawHex"])
    tx = CTransaction.deserialize(raw)
    if tx.serialize() != raw:
        raise ValueError("transaction does not re-serialise to the same bytes")
    prevouts = entry["prevouts"]
    if len(prevouts) != len(tx.vin):
        raise ValueError("%d prevouts given for %d inputs" % (len(prevouts), len(tx.vin)))
    inputs = []
    for i, prevout in enumerate(prevouts):
        try:
            inputs.append({"type": verify_input(tx, i, prevout), "valid": True})
        except Exception as err:  # report, the caller compares
            inputs.append({"valid": False, "error": "%s: %s" % (type(err).__name__, err)})
    stripped = len(tx.serialize(dict(include_witness=False)))
    weight = 3 * stripped + len(raw)
    fee = sum(int(p["amount"]) for p in prevouts) - sum(o.nValue for o in tx.vout)
    return {
        "txid": b2lx(tx.GetTxid()),
        "wtxid": b2lx(tx.GetHash()),
        "opReturns": op_return_payloads(tx),
        "inputs": inputs,
        "outputs": [{"value": o.nValue, "address": address_of(o.scriptPubKey)} for o in tx.vout],
        "fee": fee,
        "weight": weight,
        "vsize": (weight + 3) // 4,
    }


def main():
    request = json.load(sys.stdin)
    bitcoin.SelectParams(NETWORK_PARAMS[request["network"]])
    results = []
    for entry in request["txs"]:
        try:
            results.append(check(entry))
        except Exception as err:
            results.append({"error": "%s: %s" % (type(err).__name__, err)})
    json.dump({"bitcoinlib": getattr(bitcoin, "__version__", "unknown"), "results": results}, sys.stdout)


if __name__ == "__main__":
    main()
