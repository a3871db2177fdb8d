/** Calendar helpers for display (the ledger computes its own days; these only pick what to ask for). */

export const SLOT_MS = 900_000;

/** YYYY-MM-DD of an instant in a time zone. */
export function localDayOf(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(ms);
}

/** The day before/after (calendar arithmetic on the date only). */
export function addDays(day: string, n: number): string {
  const d = new Date(`${day}T12:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** HH:MM of an instant in a time zone. */
export function localTime(ms: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit' }).format(ms);
}
