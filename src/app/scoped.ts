import type { KVStore, ScanOptions } from './state.js';

/**
 * A module's view of state: every key it reads or writes must start with its own prefix
 * (`<module>/`). Another module's state is reached only through that module's keeper, so a key
 * outside the prefix is a bug: it throws a ScopeViolation, which the host turns into a committed
 * INTERNAL_ERROR (the transaction's writes are discarded), logs and counts.
 */
export class ScopeViolation extends Error {
  constructor(
    readonly module: string,
    readonly key: string,
  ) {
    super(`module ${module} touched key ${JSON.stringify(key.slice(0, 80))} outside its prefix ${module}/`);
    this.name = 'ScopeViolation';
  }
}

export class ScopedStore implements KVStore {
  // Assigned, not defined as class fields: one is made per module context, several per transaction.
  private declare readonly inner: KVStore;
  private declare readonly module: string;
  private declare readonly prefix: string;
  constructor(inner: KVStore, module: string) {
    this.inner = inner;
    this.module = module;
    this.prefix = `${module}/`;
  }

  private check(key: string): string {
    if (!key.startsWith(this.prefix)) throw new ScopeViolation(this.module, key);
    return key;
  }

  get<T>(key: string): T | undefined {
    return this.inner.get<T>(this.check(key));
  }
  has(key: string): boolean {
    return this.inner.has(this.check(key));
  }
  set(key: string, value: unknown): void {
    this.inner.set(this.check(key), value);
  }
  delete(key: string): void {
    this.inner.delete(this.check(key));
  }
  getEncoded(key: string): string | undefined {
    return this.inner.getEncoded(this.check(key));
  }
  setEncoded(key: string, json: string): void {
    this.inner.setEncoded(this.check(key), json);
  }
  /** Rows are limited to `prefix`, so checking it keeps the whole scan inside the module. */
  scan<T>(prefix: string, options?: ScanOptions): Array<[string, T]> {
    return this.inner.scan<T>(this.check(prefix), options);
  }
}
