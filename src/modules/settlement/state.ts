import type { KVStore } from '../../app/state.js';
import { padKey } from '../../app/state.js';
import type { Tariff } from './statement.js';

/**
 * State layout of the settlement module (billing part):
 *   settlement/tariff/{utility}/{fromSlot16}                         TariffVersion
 *   settlement/statement/{hash}                                      StatementRecord
 *   settlement/period/{plant}/{customer}/{fromSlot16}/{toSlot16}     { hash, revision } — latest statement of that period
 */

export interface TariffVersion extends Tariff {
  utility: string;
  fromSlot: number;
  height: number;
  txHash: string;
}

export interface StatementRecord {
  hash: string;
  utility: string;
  plant: string;
  customer: string;
  fromSlot: number;
  toSlot: number;
  /** 1 for the first statement of a period; a corrected statement gets the next revision and supersedes it. */
  revision: number;
  height: number;
  txHash: string;
  time: number;
}

const TARIFF = 'settlement/tariff/';
const STATEMENT = 'settlement/statement/';
const PERIOD = 'settlement/period/';

export function putTariff(store: KVStore, t: TariffVersion): void {
  store.set(`${TARIFF}${t.utility}/${padKey(t.fromSlot)}`, t);
}

export function listTariffs(store: KVStore, utility: string): TariffVersion[] {
  return store.scan<TariffVersion>(`${TARIFF}${utility}/`).map(([, t]) => t);
}

/** The tariff version of the utility in force at a slot. */
export function tariffAt(store: KVStore, utility: string, slot: number): TariffVersion | undefined {
  const prefix = `${TARIFF}${utility}/`;
  return store.scan<TariffVersion>(prefix, { end: prefix + padKey(slot + 1), reverse: true, limit: 1 })[0]?.[1];
}

export function getStatementRecord(store: KVStore, hash: string): StatementRecord | undefined {
  return store.get<StatementRecord>(STATEMENT + hash);
}

function periodKey(plant: string, customer: string, fromSlot: number, toSlot: number): string {
  return `${PERIOD}${plant}/${customer}/${padKey(fromSlot)}/${padKey(toSlot)}`;
}

export function getLatestOfPeriod(store: KVStore, plant: string, customer: string, fromSlot: number, toSlot: number): { hash: string; revision: number } | undefined {
  return store.get<{ hash: string; revision: number }>(periodKey(plant, customer, fromSlot, toSlot));
}

export function putStatementRecord(store: KVStore, r: StatementRecord): void {
  store.set(STATEMENT + r.hash, r);
  store.set(periodKey(r.plant, r.customer, r.fromSlot, r.toSlot), { hash: r.hash, revision: r.revision });
}

export function listStatementsOfCustomer(store: KVStore, plant: string, customer: string): Array<{ hash: string; revision: number }> {
  return store.scan<{ hash: string; revision: number }>(`${PERIOD}${plant}/${customer}/`).map(([, v]) => v);
}
