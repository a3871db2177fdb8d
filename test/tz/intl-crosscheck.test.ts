import { describe, expect, it } from 'vitest';
import { localDay } from '../../src/util/localtime.js';
import { tzTable } from '../../src/util/tz/table.js';

/**
 * Sanity check, not the source of truth: the runtime's ICU carries its own copy of IANA tzdata (Node
 * 20.20 here ships 2025c; the table is 2026f). Where both copies say the same thing, our integer
 * evaluation of the table must reproduce ICU's answers. Zones that a release after ICU's changed are
 * compared only before the change, with the release named, never by loosening the comparison.
 * (Scanning all 597 names 1990–2040 finds exactly the 2026b–2026f changes below, America/Bogota 1992,
 * and WET, which Debian's build keeps as a zone while ICU makes it a link to Europe/Lisbon.)
 */

const CHANGED_AFTER_ICU: Record<string, string> = {
  'Africa/Casablanca': '2026-09-20', // 2026c: Morocco permanent +00
  'America/Edmonton': '2026-11-01', // 2026c: Alberta permanent -06
  'America/Vancouver': '2026-11-01', // 2026b: British Columbia permanent -07
  'America/Winnipeg': '2026-11-01', // 2026d: Manitoba permanent -05
  'America/Havana': '2026-11-01', // 2026f: Cuba keeps -04 until 2027-11-07
  'Europe/Chisinau': '2022-01-01', // 2026b: Moldova on EU transition times since 2022
};

const SAMPLE = [
  'Europe/Amsterdam', 'Europe/Vienna', 'Europe/London', 'Europe/Dublin', 'Europe/Lisbon', 'Europe/Moscow', 'Europe/Istanbul', 'Europe/Kyiv', 'Europe/Minsk', 'Europe/Chisinau',
  'Asia/Almaty', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Tehran', 'Asia/Jerusalem', 'Asia/Gaza', 'Asia/Tokyo', 'Asia/Shanghai', 'Asia/Dhaka', 'Asia/Pyongyang', 'Asia/Qostanay',
  'America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles', 'America/Vancouver', 'America/Edmonton', 'America/Winnipeg',
  'America/Havana', 'America/Mexico_City', 'America/Asuncion', 'America/Santiago', 'America/Sao_Paulo', 'America/St_Johns', 'America/Nuuk', 'America/Caracas', 'America/Bahia_Banderas',
  'Africa/Casablanca', 'Africa/Cairo', 'Africa/Johannesburg', 'Africa/Juba', 'Africa/Windhoek',
  'Australia/Sydney', 'Australia/Adelaide', 'Australia/Lord_Howe', 'Australia/Eucla', 'Pacific/Auckland', 'Pacific/Chatham', 'Pacific/Apia', 'Pacific/Kiritimati', 'Pacific/Fiji',
  'Antarctica/Troll', 'Atlantic/Azores', 'UTC',
];

const formatters = new Map<string, Intl.DateTimeFormat>();

/** ICU's offset (seconds) at UTC instant t: the runtime's local wall time read back as if UTC. */
function icuUtoff(tz: string, t: number): number {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', { timeZone: tz, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    formatters.set(tz, f);
  }
  const p: Record<string, number> = {};
  for (const part of f.formatToParts(new Date(t * 1000))) if (part.type !== 'literal') p[part.type] = Number(part.value);
  return Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!) / 1000 - t;
}

/** ICU's local calendar day at UTC instant t. */
function icuLocalDay(tz: string, t: number): string {
  return new Date((t + icuUtoff(tz, t)) * 1000).toISOString().slice(0, 10);
}

const isoDay = (days: number) => new Date(days * 86_400_000).toISOString().slice(0, 10);

const FROM = Date.UTC(1990, 0, 1) / 1000;
const TO = Date.UTC(2040, 0, 1) / 1000;
/** End (exclusive, UTC seconds) of the span in which ICU's copy is expected to agree for a zone. */
const agreedUntil = (tz: string) => (CHANGED_AFTER_ICU[tz] ? Date.parse(`${CHANGED_AFTER_ICU[tz]}T00:00:00Z`) / 1000 : TO);

describe('cross-check against the runtime ICU (sanity check)', () => {
  it('agrees on the UTC offset weekly 1990–2040 and on both sides of every transition', () => {
    let compared = 0;
    for (const tz of SAMPLE) {
      const rules = tzTable().zone(tz)!;
      const until = agreedUntil(tz) - 86_400;
      const probes: number[] = [];
      for (const tr of rules.transitions(FROM, until)) probes.push(tr.at - 1, tr.at);
      for (let t = FROM; t < until; t += 7 * 86_400 + 3_600) probes.push(t);
      const mismatches = probes.filter((t) => icuUtoff(tz, t) !== rules.typeAt(t).utoff);
      expect(mismatches.map((t) => `${tz} ${new Date(t * 1000).toISOString()}`)).toEqual([]);
      compared += probes.length;
    }
    expect(compared).toBeGreaterThan(100_000);
  });

  it('agrees on where every local day of 2025–2027 begins (so on its number of slots)', () => {
    for (const tz of SAMPLE) {
      const until = Math.min(Date.UTC(2028, 0, 1) / 1000, agreedUntil(tz) - 86_400) / 86_400;
      for (let d = Date.UTC(2025, 0, 1) / 86_400_000; d < until; d++) {
        const day = localDay(tz, isoDay(d));
        const start = day.firstSlot * 900;
        expect(icuLocalDay(tz, start), `${tz} ${day.day}`).toBe(day.day);
        expect(icuLocalDay(tz, start - 1), `${tz} ${day.day}`).toBe(isoDay(d - 1));
      }
    }
  });
});
