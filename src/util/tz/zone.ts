import { parsePosixTz, posixTransitions, posixTypeAt, type LocalTimeType, type PosixTz, type Transition } from './posix.js';
import { upperBound } from '../sorted.js';

/**
 * The rules of one zone as stored in the table: explicit transitions up to the last one the source
 * spells out, then the POSIX TZ footer rule. All instants are UTC seconds since 1970, integers.
 */
export interface ZoneData {
  /** Local time types [utoff seconds east of UTC, isDst 0|1]; type 0 applies before the first transition. */
  types: [number, number][];
  /** Transitions [UTC seconds, index into types], strictly increasing. */
  trans: [number, number][];
  /** POSIX TZ string for instants after the last transition (or all instants if there is none); '' = none. */
  footer: string;
}

/** Offsets never exceed a day, so two days either side of a wall-clock time bracket every candidate instant. */
const SEARCH_WINDOW = 2 * 86_400;
const MAX_UTOFF = 26 * 3600;

export class ZoneRules {
  private readonly types: LocalTimeType[];
  private readonly times: number[];
  private readonly typeIndex: number[];
  private readonly footer: PosixTz | undefined;

  constructor(readonly name: string, data: ZoneData) {
    this.types = data.types.map(([utoff, isDst]) => ({ utoff, isDst: isDst === 1 }));
    this.times = data.trans.map(([at]) => at);
    this.typeIndex = data.trans.map(([, index]) => index);
    this.footer = data.footer === '' ? undefined : parsePosixTz(data.footer);
    this.validate();
  }

  private validate(): void {
    const bad = (why: string): never => {
      throw new Error(`tz table: zone ${this.name}: ${why}`);
    };
    if (this.types.length === 0) bad('no local time types');
    for (const t of this.types) if (!Number.isSafeInteger(t.utoff) || Math.abs(t.utoff) >= MAX_UTOFF) bad(`offset ${t.utoff} out of range`);
    this.times.forEach((at, i) => {
      if (!Number.isSafeInteger(at) || (i > 0 && at <= this.times[i - 1]!)) bad('transitions not strictly increasing integers');
      if (this.types[this.typeIndex[i]!] === undefined) bad(`transition ${i} names a missing type`);
    });
  }

  /** The local time type in effect at UTC instant t (seconds). */
  typeAt(t: number): LocalTimeType {
    const n = this.times.length;
    if (n === 0) return this.footer ? posixTypeAt(this.footer, t) : this.types[0]!;
    if (t < this.times[0]!) return this.types[0]!;
    if (t > this.times[n - 1]! && this.footer) return posixTypeAt(this.footer, t);
    return this.types[this.typeIndex[this.lastTransitionAtOrBefore(t)]!]!;
  }

  /** Binary search: the index of the last transition at or before t (t ≥ the first transition). */
  private lastTransitionAtOrBefore(t: number): number {
    return upperBound(this.times, t) - 1;
  }

  /** Changes of local time type at instants in (from, to], from the table and then the footer rule. */
  transitions(from: number, to: number): Transition[] {
    const out: Transition[] = [];
    const n = this.times.length;
    for (let i = n > 0 && from >= this.times[0]! ? this.lastTransitionAtOrBefore(from) : 0; i < n && this.times[i]! <= to; i++) {
      if (this.times[i]! > from) out.push({ at: this.times[i]!, type: this.types[this.typeIndex[i]!]! });
    }
    if (this.footer) out.push(...posixTransitions(this.footer, n === 0 ? from : Math.max(from, this.times[n - 1]!), to));
    return out;
  }

  /**
   * The first UTC instant at which the local clock reads `wall` or later (wall = local seconds since
   * 1970-01-01T00:00 local). Where `wall` falls in a gap this is the transition ending the gap; where
   * it repeats, its first occurrence.
   */
  firstInstantAtOrAfterWall(wall: number): number {
    const end = wall + SEARCH_WINDOW;
    let segmentStart = wall - SEARCH_WINDOW;
    let type = this.typeAt(segmentStart);
    for (const tr of this.transitions(segmentStart, end)) {
      const candidate = Math.max(segmentStart, wall - type.utoff);
      if (candidate < tr.at) return candidate;
      segmentStart = tr.at;
      type = tr.type;
    }
    const candidate = Math.max(segmentStart, wall - type.utoff);
    if (candidate > end) throw new Error(`tz table: zone ${this.name}: no instant reads local ${wall}`);
    return candidate;
  }
}
