/**
 * Child process of runtime-independence.test.ts: computes local days with the runtime's time-zone
 * facilities made unusable (Intl and Date throw on any use), and prints the results as JSON.
 */
import { localDayDigest } from './digest.js';

const runtimeOffsetMinutes = new Date(Date.UTC(2026, 0, 1)).getTimezoneOffset();
const poisoned = (what: string) =>
  new Proxy(function () {}, {
    get: () => {
      throw new Error(`${what} used`);
    },
    apply: () => {
      throw new Error(`${what} used`);
    },
    construct: () => {
      throw new Error(`${what} used`);
    },
  });
Object.defineProperty(globalThis, 'Intl', { value: poisoned('Intl'), configurable: true, writable: true });
Object.defineProperty(globalThis, 'Date', { value: poisoned('Date'), configurable: true, writable: true });

process.stdout.write(JSON.stringify({ runtimeOffsetMinutes, digest: localDayDigest() }));
