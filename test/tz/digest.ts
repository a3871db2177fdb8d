import { dayOfSlot, localDay, slotLocalIso } from '../../src/util/localtime.js';

/** Zones and days whose local-day results must not depend on the process's TZ, ICU or locale. */
const ZONES = ['Europe/Vienna', 'America/Vancouver', 'Africa/Casablanca', 'Europe/Amsterdam', 'Asia/Almaty', 'America/Asuncion', 'Australia/Adelaide', 'America/Santiago', 'Asia/Kolkata', 'Pacific/Kiritimati', 'UTC'];
const DAYS = ['2024-02-29', '2024-03-01', '2024-10-06', '2024-10-15', '2025-03-22', '2026-03-29', '2026-04-05', '2026-09-06', '2026-10-04', '2026-10-25', '2026-11-01', '2099-10-25'];

/** One line per zone and day: slot range, first/last local times, and the day the last slot maps back to. */
export function localDayDigest(): string[] {
  const out: string[] = [];
  for (const tz of ZONES) {
    for (const d of DAYS) {
      const day = localDay(tz, d);
      const last = day.firstSlot + day.slots - 1;
      out.push(`${tz} ${d} ${day.firstSlot}+${day.slots} ${slotLocalIso(tz, day.firstSlot)} ${slotLocalIso(tz, last)} ${dayOfSlot(tz, last)}`);
    }
  }
  return out;
}
