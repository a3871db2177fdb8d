/**
 * Token bucket: `ratePerSec` tokens refill continuously up to `burst`. take(n) spends n tokens or
 * answers false (and spends nothing). The clock is injectable so tests need no real waiting.
 */
export class TokenBucket {
  readonly #ratePerMs: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(ratePerSec: number, burst: number, now: () => number) {
    if (!(ratePerSec > 0) || !(burst > 0)) throw new Error('token bucket rate and burst must be positive');
    this.#ratePerMs = ratePerSec / 1000;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  take(n: number): boolean {
    this.#refill();
    if (n > this.#tokens) return false;
    this.#tokens -= n;
    return true;
  }

  #refill(): void {
    const now = this.#now();
    const elapsed = Math.max(0, now - this.#last);
    this.#last = now;
    this.#tokens = Math.min(this.#burst, this.#tokens + elapsed * this.#ratePerMs);
  }
}
