import type { Groth16VerifyingKey } from './encoding.js';
import { prepareVerifyingKey, type PreparedVerifyingKey } from './verify.js';

/**
 * What modules that verify Groth16 proofs (anon, flex) share about their verifying keys: the record
 * an operator's registration writes, the check a key offered for registration must pass, and the
 * prepared keys. Where the records live (one key or many, under the module's own prefix) and who
 * may register stay with each module; the errors are the module's own.
 */

/** A registered verifying key as a module stores it; `At` is the module's transaction reference. */
export interface RegisteredKey<At> {
  id: string;
  circuit: string;
  /** The registered form (src/zk/encoding.ts Groth16VerifyingKey). */
  key: Groth16VerifyingKey;
  registeredBy: string;
  at: At;
}

export interface CircuitKeyRules {
  /** The circuit's name in error messages, e.g. "membership". */
  circuit: string;
  /** How many public inputs the circuit has: a key for another circuit is refused. */
  publicInputs: number;
  /** The module's error for a key that is not a valid key of this circuit. */
  invalid: (message: string) => Error;
}

/** The record a registration of `vk` stores. */
export function keyRecord<At>(vk: PreparedVerifyingKey, registration: { circuit: string; registeredBy: string; at: At }): RegisteredKey<At> {
  return { id: vk.id, circuit: registration.circuit, key: vk.key, registeredBy: registration.registeredBy, at: registration.at };
}

/** The verifying keys of one circuit: checks keys offered for registration and keeps them prepared. */
export class CircuitKeys {
  /** Prepared keys by id: preparing costs a pairing; ids are content hashes, so the cache changes no result, only the time. */
  private readonly prepared = new Map<string, PreparedVerifyingKey>();

  constructor(private readonly rules: CircuitKeyRules) {}

  /** A key offered for registration, prepared: a canonical BN254 key with the circuit's number of public inputs. */
  admit(key: unknown): PreparedVerifyingKey {
    let vk: PreparedVerifyingKey;
    try {
      vk = prepareVerifyingKey(key);
    } catch (err) {
      throw this.rules.invalid(err instanceof Error ? err.message : String(err));
    }
    const { circuit, publicInputs } = this.rules;
    if (vk.nPublic !== publicInputs) throw this.rules.invalid(`the ${circuit} circuit has ${publicInputs} public inputs; the key has ${vk.nPublic}`);
    this.prepared.set(vk.id, vk);
    return vk;
  }

  /** A registered key, ready to verify with. */
  preparedOf(registered: Pick<RegisteredKey<unknown>, 'id' | 'key'>): PreparedVerifyingKey {
    const cached = this.prepared.get(registered.id);
    if (cached) return cached;
    const vk = prepareVerifyingKey(registered.key);
    this.prepared.set(vk.id, vk);
    return vk;
  }
}
