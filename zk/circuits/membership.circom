pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// Semaphore-style membership for anonymous trade accounts (issue 16): "I know the secret of one
// identity commitment in the members' tree with this root", with a nullifier that allows at most
// maxSlots accounts per member and epoch, bound to the new account by signalHash.
//
// identity commitment = Poseidon(secret)                       (a leaf of the members' tree)
// tree node           = Poseidon(left, right), empty leaf = 0, DEPTH levels
// external nullifier  = Poseidon(epoch, slotIndex), slotIndex < maxSlots
// nullifier           = Poseidon(secret, external nullifier)
template Membership(DEPTH, SLOT_BITS) {
    // public, in this order
    signal input root;
    signal input nullifier;
    signal input epoch;
    signal input maxSlots;
    signal input signalHash;
    // private
    signal input secret;
    signal input slotIndex;
    signal input leafIndex;
    signal input siblings[DEPTH];

    component identity = Poseidon(1);
    identity.inputs[0] <== secret;

    // Walk from the leaf to the root; bit i of leafIndex says whether the node at level i is a
    // right child. Num2Bits makes each bit 0 or 1 (and leafIndex < 2^DEPTH).
    component indexBits = Num2Bits(DEPTH);
    indexBits.in <== leafIndex;
    component levels[DEPTH];
    signal node[DEPTH + 1];
    signal left[DEPTH];
    signal right[DEPTH];
    node[0] <== identity.out;
    for (var i = 0; i < DEPTH; i++) {
        left[i] <== node[i] + indexBits.out[i] * (siblings[i] - node[i]);
        right[i] <== node[i] + siblings[i] - left[i];
        levels[i] = Poseidon(2);
        levels[i].inputs[0] <== left[i];
        levels[i].inputs[1] <== right[i];
        node[i + 1] <== levels[i].out;
    }
    root === node[DEPTH];

    // slotIndex < maxSlots, both range-checked first so the comparison cannot wrap around.
    component slotBits = Num2Bits(SLOT_BITS);
    slotBits.in <== slotIndex;
    component maxBits = Num2Bits(SLOT_BITS);
    maxBits.in <== maxSlots;
    component inRange = LessThan(SLOT_BITS);
    inRange.in[0] <== slotIndex;
    inRange.in[1] <== maxSlots;
    inRange.out === 1;

    component externalNullifier = Poseidon(2);
    externalNullifier.inputs[0] <== epoch;
    externalNullifier.inputs[1] <== slotIndex;
    component nullifierHash = Poseidon(2);
    nullifierHash.inputs[0] <== secret;
    nullifierHash.inputs[1] <== externalNullifier.out;
    nullifier === nullifierHash.out;

    // Bind the new account (its address, hashed to a field element) into the proof so the proof
    // cannot be reused to admit another account.
    signal signalHashSquare <== signalHash * signalHash;
}

component main {public [root, nullifier, epoch, maxSlots, signalHash]} = Membership(16, 16);
