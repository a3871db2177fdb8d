pragma circom 2.1.0;

include "circomlib/circuits/poseidon.circom";
include "circomlib/circuits/bitify.circom";
include "circomlib/circuits/comparators.circom";

// One interval of a demand-response event (issue 14): the prosumer shows the public deviation
// |requested − value| without revealing the measured value, which only the public commitment
// Poseidon(value, salt) hides. All quantities are Wh in [0, 2^BITS).
template Deviation(BITS) {
    // public, in this order (the order of the public signals the verifier receives)
    signal input commitment;
    signal input requested;
    signal input deviation;
    signal input eventId;
    signal input intervalIndex;
    // private
    signal input value;
    signal input salt;

    // Range checks. Without them arithmetic is modulo the field prime p, and a value such as
    // requested + p − 1 (≡ requested − 1) would "deviate" by 1 while being any number at all.
    // With value, requested and deviation below 2^BITS ≪ p every equation below holds over the
    // integers. Num2Bits(BITS) with BITS < 254 has a single bit decomposition, so it is sound.
    component valueBits = Num2Bits(BITS);
    valueBits.in <== value;
    component requestedBits = Num2Bits(BITS);
    requestedBits.in <== requested;
    component deviationBits = Num2Bits(BITS);
    deviationBits.in <== deviation;

    // The commitment the meter's edge registered on the ledger for this interval.
    component hash = Poseidon(2);
    hash.inputs[0] <== value;
    hash.inputs[1] <== salt;
    hash.out === commitment;

    // deviation = |requested − value|: below = 1 iff requested < value (LessThan is sound here
    // because both inputs were range-checked to BITS bits above).
    component below = LessThan(BITS);
    below.in[0] <== requested;
    below.in[1] <== value;
    signal difference <== requested - value;
    signal flipped <== below.out * difference;
    deviation === difference - 2 * flipped;

    // Bind the event and the interval into the proof: a public input that appears in no
    // constraint could be swapped after proving. A square is the cheapest real constraint.
    signal eventIdSquare <== eventId * eventId;
    signal intervalIndexSquare <== intervalIndex * intervalIndex;
}

component main {public [commitment, requested, deviation, eventId, intervalIndex]} = Deviation(40);
