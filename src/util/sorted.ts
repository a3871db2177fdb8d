/** Binary searches over arrays sorted ascending by `<` (strings by UTF-16 code units, numbers by value). */

/** Index of the first element for which `before` is false, given that it holds for a prefix of `sorted` only. */
export function partitionPoint<T>(sorted: readonly T[], before: (x: T) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(sorted[mid]!)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Index of the first element ≥ `value` (the length when there is none). */
export const lowerBound = <T extends string | number>(sorted: readonly T[], value: T): number => partitionPoint(sorted, (x) => x < value);

/** Index of the first element > `value` (the length when there is none). */
export const upperBound = <T extends string | number>(sorted: readonly T[], value: T): number => partitionPoint(sorted, (x) => x <= value);
