export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

const HEX_RE = /^(?:[0-9a-f]{2})*$/;

/** Strict lowercase hex decoding; returns undefined for anything else (callers map it to their error code). */
export function fromHexStrict(hex: string, expectedLength?: number): Uint8Array | undefined {
  if (typeof hex !== 'string' || !HEX_RE.test(hex)) return undefined;
  const out = new Uint8Array(Buffer.from(hex, 'hex'));
  if (expectedLength !== undefined && out.length !== expectedLength) return undefined;
  return out;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

export function utf8(s: string): Uint8Array {
  return new Uint8Array(Buffer.from(s, 'utf8'));
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}
