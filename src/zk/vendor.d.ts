// The parts of snarkjs (no bundled types) that GridLedger uses. A file argument is a path or an
// in-memory file `{ type: 'mem', data? }` (fastfile).
declare module 'snarkjs' {
  type FileRef = string | { type: 'mem'; data?: Uint8Array };
  type Signals = Record<string, unknown>;
  interface Logger {
    debug(msg: string): void;
    info(msg: string): void;
    warn(msg: string): void;
    error(msg: string): void;
  }
  export const groth16: {
    prove(zkey: FileRef, witness: FileRef, logger?: Logger): Promise<{ proof: unknown; publicSignals: string[] }>;
    fullProve(input: Signals, wasm: FileRef, zkey: FileRef, logger?: Logger): Promise<{ proof: unknown; publicSignals: string[] }>;
    verify(vkey: unknown, publicSignals: unknown, proof: unknown, logger?: Logger): Promise<boolean>;
  };
  export const wtns: {
    calculate(input: Signals, wasm: FileRef, wtns: FileRef, options?: Record<string, unknown>): Promise<void>;
  };
  export const curves: {
    getCurveFromName(name: string, options?: { singleThread?: boolean }): Promise<{ terminate(): Promise<void> }>;
  };
}

// circom_runtime (iden3, the witness calculator snarkjs itself uses): kept per circuit so the
// circuit's WebAssembly is compiled once per process instead of once per proof.
declare module 'circom_runtime' {
  export interface WitnessCalculator {
    calculateWTNSBin(input: Record<string, unknown>, sanityCheck?: boolean): Promise<Uint8Array>;
  }
  export function WitnessCalculatorBuilder(wasm: Uint8Array, options?: { sanityCheck?: boolean }): Promise<WitnessCalculator>;
}
