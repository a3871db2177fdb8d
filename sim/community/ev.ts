import { localMidnightMs } from '../../src/util/localtime.js';
import { dateOfEpochDay } from './calendar.js';
import { STREAM, hashString, normal, streamPrng, uniform } from './random.js';

/**
 * An electric car charged at home, uncontrolled: it plugs in at its arrival in the evening and
 * charges at full power until the day's driving energy is back or it leaves the next morning.
 * Each local day d draws (own random stream per household and day): whether the car was driven
 * (probability 1 − noTripProbability), the energy to recharge N(dailyKwh, dailyKwhSd) clipped to
 * [0, batteryKwh], and arrival/departure times jittered uniformly by ± jitterMinutes.
 *
 * Energy delivered by instant t: E(t) = min(need, P·(t − arrival)) while plugged in; the energy of
 * a slot is round(E(end)) − round(E(start)), so a session's slots add up to exactly round(need).
 */

export interface EvSpec {
  chargePowerW: number;
  /** Local "HH:MM" of the usual arrival. */
  arrival: string;
  /** Local "HH:MM" of the usual departure the next morning. */
  departure: string;
  jitterMinutes: number;
  dailyKwh: number;
  dailyKwhSd: number;
  batteryKwh: number;
  noTripProbability: number;
}

interface Session {
  startMs: number;
  endMs: number;
  needWh: number;
}

const MS_PER_HOUR = 3_600_000;

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

export class ElectricVehicle {
  readonly #spec: EvSpec;
  readonly #seed: number;
  readonly #key: number;
  readonly #timezone: string;
  readonly #sessions = new Map<number, Session>();

  constructor(spec: EvSpec, options: { seed: number; memberId: string; timezone: string }) {
    this.#spec = spec;
    this.#seed = options.seed;
    this.#key = hashString(options.memberId);
    this.#timezone = options.timezone;
  }

  /** The charging session that starts on local day `epochDay` (need 0 when the car was not driven). */
  session(epochDay: number): Session {
    const cached = this.#sessions.get(epochDay);
    if (cached) return cached;
    const s = this.#spec;
    const prng = streamPrng(this.#seed, STREAM.ev, this.#key, epochDay);
    const drove = prng.next() >= s.noTripProbability;
    const need = Math.min(s.batteryKwh, Math.max(0, s.dailyKwh + s.dailyKwhSd * normal(prng))) * 1000;
    const arrivalMin = minutesOf(s.arrival) + uniform(prng, -s.jitterMinutes, s.jitterMinutes);
    const departureMin = minutesOf(s.departure) + uniform(prng, -s.jitterMinutes, s.jitterMinutes);
    const today = dateOfEpochDay(epochDay);
    const tomorrow = dateOfEpochDay(epochDay + 1);
    const session = {
      startMs: localMidnightMs(this.#timezone, today.year, today.month, today.day) + arrivalMin * 60_000,
      endMs: localMidnightMs(this.#timezone, tomorrow.year, tomorrow.month, tomorrow.day) + departureMin * 60_000,
      needWh: drove ? need : 0,
    };
    if (this.#sessions.size >= 4) this.#sessions.delete(this.#sessions.keys().next().value!);
    this.#sessions.set(epochDay, session);
    return session;
  }

  /** Whole Wh charged in [startMs, endMs) of a slot whose local day is `epochDay`. */
  slotWh(epochDay: number, startMs: number, endMs: number): number {
    // Sessions start in the evening of one day and end the next morning: two can touch a slot.
    return this.#sessionWh(this.session(epochDay - 1), startMs, endMs) + this.#sessionWh(this.session(epochDay), startMs, endMs);
  }

  #sessionWh(session: Session, startMs: number, endMs: number): number {
    return Math.round(this.#delivered(session, endMs)) - Math.round(this.#delivered(session, startMs));
  }

  #delivered(session: Session, t: number): number {
    if (t <= session.startMs || session.needWh <= 0) return 0;
    const until = Math.min(t, session.endMs);
    return Math.min(session.needWh, (this.#spec.chargePowerW * (until - session.startMs)) / MS_PER_HOUR);
  }
}
