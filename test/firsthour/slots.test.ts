/**
 * Issue 19 point 8: slot times on the command line. An ISO time inside a slot is refused with the
 * slot's bounds (or taken with --round), `+0100` works like `+01:00`, and empty, reversed and begun
 * ranges are refused before anything is signed or sent (no nonce is spent, no block is used).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSlot, slotIso, slotOfMs, SLOT_MS } from '../../src/util/slots.js';
import { startFakeNode, type FakeNode } from './fake-node.js';

describe('parseSlot', () => {
  const slot = slotOfMs(Date.parse('2026-06-01T12:00:00Z'));

  it('takes slot indices and ISO slot starts in every offset form', () => {
    expect(parseSlot(String(slot))).toBe(slot);
    for (const iso of ['2026-06-01T12:00:00Z', '2026-06-01T12:00Z', '2026-06-01T14:00:00+02:00', '2026-06-01T14:00:00+0200', '2026-06-01T13:00+0100', '2026-06-01T07:00:00.000-0500', '2026-06-01T17:45:00+0545']) {
      expect(parseSlot(iso), iso).toBe(slot);
    }
  });

  it('refuses a time inside a slot, naming the slot and its bounds', () => {
    for (const iso of ['2026-06-01T12:07:00Z', '2026-06-01T14:14:59+0200', '2026-06-01T12:00:00.001Z']) {
      expect(() => parseSlot(iso), iso).toThrowError(expect.objectContaining({ code: 'SLOT_NOT_ON_BOUNDARY' }));
    }
    expect(() => parseSlot('2026-06-01T12:07:00Z')).toThrow(`slot ${slot}, which runs from ${slotIso(slot)} to ${slotIso(slot + 1)}`);
  });

  it('with round, names the slot containing the instant', () => {
    expect(parseSlot('2026-06-01T12:14:59Z', { round: true })).toBe(slot);
    expect(parseSlot('2026-06-01T14:15:00+0200', { round: true })).toBe(slot + 1);
  });

  it('refuses malformed offsets and times without a zone', () => {
    for (const bad of ['2026-06-01T12:00:00', '2026-06-01T12:00:00+1', '2026-06-01T12:00:00+01:0', '2026-06-01 12:00:00Z', '12:00Z']) {
      expect(() => parseSlot(bad), bad).toThrowError(expect.objectContaining({ code: 'SLOT_INVALID' }));
    }
  });
});

describe('slots on the command line are checked before signing', () => {
  let node: FakeNode;
  const now = slotOfMs(Date.now());
  const future = now + 8;
  const transfer = (from: string, to: string, ...extra: string[]) => node.run([...extra, '--from', 'bob', 'tx', 'plant', 'transfer', '--plant', 'p1', '--to', 'carol', '--ppm', '1', '--from-slot', from, '--to-slot', to]);
  const sentTx = (r: { requests: string[] }) => r.requests.find((q) => q.startsWith('POST /v1/txs'));

  beforeAll(async () => {
    node = await startFakeNode({ bob: ['prosumer'], carol: ['prosumer'] });
  });
  afterAll(() => node?.close());

  it('a future range is signed and sent (the control case)', async () => {
    const r = await transfer(String(future), String(future + 4));
    expect(sentTx(r)).toContain(`"fromSlot":${future}`);
  });

  it('an off-boundary ISO time is refused with exit 2 and nothing sent; --round takes its slot', async () => {
    const inside = new Date(future * SLOT_MS + 7 * 60_000).toISOString();
    const refused = await transfer(inside, String(future + 4));
    expect(refused.code).toBe(2);
    expect(refused.error?.code).toBe('SLOT_NOT_ON_BOUNDARY');
    expect(refused.error?.message).toContain('--round');
    expect(refused.requests).toEqual([]);
    const rounded = await transfer(inside, String(future + 4), '--round');
    expect(sentTx(rounded)).toContain(`"fromSlot":${future}`);
  });

  it('+0100 and +01:00 name the same slot', async () => {
    const local = (sep: string) => {
      const d = new Date(future * SLOT_MS + 3_600_000);
      return `${d.toISOString().slice(0, 19)}+01${sep}00`;
    };
    for (const sep of ['', ':']) expect(sentTx(await transfer(local(sep), String(future + 4)))).toContain(`"fromSlot":${future}`);
  });

  it('empty and reversed ranges are refused before signing, for transactions and queries', async () => {
    for (const [from, to, why] of [[future, future, 'is empty'], [future + 4, future, 'is reversed']] as const) {
      const r = await transfer(String(from), String(to));
      expect(r.code).toBe(2);
      expect(r.error?.code).toBe('CLI_SLOT_RANGE_EMPTY');
      expect(r.error?.message).toContain(why);
      expect(r.requests).toEqual([]);
    }
    const q = await node.run(['query', 'meter', 'readings', 'm1', '--from-slot', String(now), '--to-slot', String(now - 1)]);
    expect(q.error?.code).toBe('CLI_SLOT_RANGE_EMPTY');
    expect(q.requests).toEqual([]);
    const contract = await node.run(['--from', 'bob', 'tx', 'market', 'contract', 'propose', '--community', 'c1', '--role', 'consumer', '--counterparty', 'carol', '--start-slot', String(future + 2), '--end-slot', String(future + 1), '--max-power-w', '1000', '--price', '1']);
    expect(contract.error?.code).toBe('CLI_SLOT_RANGE_EMPTY');
    expect(contract.requests).toEqual([]);
  });

  it('a slot that has begun is refused where the ledger needs a future slot, with no nonce fetched', async () => {
    const cases: string[][] = [
      ['tx', 'plant', 'transfer', '--plant', 'p1', '--to', 'carol', '--ppm', '1', '--from-slot', String(now), '--to-slot', String(now + 4)],
      ['tx', 'community', 'add-meter', '--community', 'c1', '--meter', 'm1', '--kind', 'consumer', '--trader', 'bob', '--from-slot', String(now - 3)],
      ['tx', 'community', 'remove-meter', '--community', 'c1', '--meter', 'm1', '--from-slot', slotIso(now)],
      ['tx', 'market', 'set-tariffs', '--community', 'c1', '--import-price', '1', '--export-price', '1', '--from-slot', String(now)],
      ['tx', 'settlement', 'set-tariff', '--import-tariff', '1', '--feed-in-tariff', '1', '--from-slot', String(now - 96)],
    ];
    for (const argv of cases) {
      const r = await node.run(['--from', 'bob', ...argv]);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.error?.code, argv.join(' ')).toBe('CLI_SLOT_NOT_FUTURE');
      expect(r.error?.message).toContain(`current slot is ${now}`);
      expect(r.requests, argv.join(' ')).toEqual([]);
    }
  });

  it('instants (flex event start, escrow deadline) take +0100 as well as +01:00 and refuse times without a zone', async () => {
    const startMs = future * SLOT_MS;
    const local = new Date(startMs + 3_600_000).toISOString().slice(0, 19);
    const event = (start: string) => node.run(['--from', 'bob', 'tx', 'flex', 'event', '--program', 'p1', '--prosumer', 'carol', '--start', start, '--requested', '100,100']);
    for (const zone of ['+0100', '+01:00']) expect(sentTx(await event(`${local}${zone}`))).toContain(`"start":${startMs}`);
    const zoneless = await event(local);
    expect(zoneless.code).toBe(2);
    expect(zoneless.error?.code).toBe('CLI_INVALID_OPTION');
    expect(zoneless.requests).toEqual([]);
    const deadline = await node.run(['--from', 'bob', 'tx', 'escrow', 'open', '--asset', 'NOK@x', '--amount', '1', '--payee', 'carol', '--deadline-time', `${local}+0100`]);
    expect(sentTx(deadline)).toContain(`"deadlineTime":${startMs}`);
  });
});
