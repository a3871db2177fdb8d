import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_MS } from '../../src/util/slots.js';
import { startTestNode, type TestNode } from '../helpers/node.js';

const run = promisify(execFile);

/** The worked example end to end through the CLI against a running node (one process per command, JSON output). */
describe('CLI: worked example against a running node', () => {
  let node: TestNode;
  beforeAll(async () => {
    node = await startTestNode({ alice: ['trader'], bob: ['trader'], pmeter: ['meter'], cmeter: ['meter'] });
  });
  afterAll(async () => {
    await node?.cleanup();
  });

  async function cli(...args: string[]): Promise<any> {
    const { stdout } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', ...args], { cwd: process.cwd() });
    return JSON.parse(stdout);
  }
  const tx = (from: string, ...args: string[]) => cli('--from', from, '--wait', 'tx', ...args);

  it('A +10 000 solar, B −15 000; transfer, reduce and mutate bring B to 0', async () => {
    const a = node.init.accounts.alice!;
    const b = node.init.accounts.bob!;
    // the slot before the current one has ended by block time
    const slot = String(Math.floor(Date.now() / SLOT_MS) - 1);
    const created = await tx('admin', 'community', 'create', '--name', 'Worked example', '--timezone', 'Europe/Amsterdam');
    expect(created.result.code).toBe('OK');
    const id = created.result.events.find((e: any) => e.type === 'energy.community_created').attributes.id as string;
    await tx('admin', 'community', 'add-trader', '--community', id, '--address', a);
    await tx('admin', 'community', 'add-trader', '--community', id, '--address', b);
    await tx('admin', 'community', 'add-meter', '--community', id, '--meter', 'P1', '--address', node.init.accounts.pmeter!, '--kind', 'producer', '--trader', a, '--labels', 'solar', '--max-power-w', '50000');
    await tx('admin', 'community', 'add-meter', '--community', id, '--meter', 'C1', '--address', node.init.accounts.cmeter!, '--kind', 'consumer', '--trader', b, '--max-power-w', '80000');
    // a meter's links: where and to whom it is linked (JSON, and the text form)
    const links = await cli('query', 'energy', 'meter-links', 'P1');
    expect(links.links.map((l: any) => [l.community, l.kind, l.trader, l.labels])).toEqual([[id, 'producer', a, ['solar']]]);
    const { stdout: text } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, 'query', 'energy', 'meter-links', 'C1'], { cwd: process.cwd() });
    expect(text).toMatch(new RegExp(`^${id}  consumer  from slot \\d+  ${b} \\(bob\\)  \\(unlabelled\\)$`, 'm'));
    // a member community of the owner's: its owners are its own and the parent's, nearest first
    await tx('admin', 'community', 'add-trader', '--community', id, '--address', node.init.accounts.admin!);
    const child = await tx('admin', 'community', 'create', '--name', 'Street', '--timezone', 'Europe/Amsterdam', '--parent', id);
    const childId = child.result.events.find((e: any) => e.type === 'energy.community_created').attributes.id as string;
    expect((await cli('query', 'energy', 'owners', childId)).owners).toEqual([
      { community: childId, owner: node.init.accounts.admin },
      { community: id, owner: node.init.accounts.admin },
    ]);
    // the two meters sign their own readings (in parallel: different keys)
    await Promise.all([
      tx('pmeter', 'meter', 'reading', '--community', id, '--slot', slot, '--export-wh', '10000', '--seq', '1'),
      tx('cmeter', 'meter', 'reading', '--community', id, '--slot', slot, '--import-wh', '15000', '--seq', '1'),
    ]);
    const balances = async () => {
      const v = await cli('query', 'energy', 'balances', '--community', id, '--slot', slot);
      return Object.fromEntries(v.balances.map((r: any) => [`${r.trader === a ? 'A' : 'B'}:${r.labels.join(',')}`, r.wh]));
    };
    expect(await balances()).toEqual({ 'A:solar': 10_000, 'B:': -15_000 });

    await tx('alice', 'energy', 'transfer', '--community', id, '--to', b, '--slot', slot, '--labels', 'solar', '--wh', '10000');
    expect(await balances()).toEqual({ 'B:solar': 10_000, 'B:': -15_000 });

    await tx('bob', 'energy', 'reduce', '--community', id, '--slot', slot, '--labels', 'solar', '--remove', 'solar', '--wh', '10000');
    expect(await balances()).toEqual({ 'B:': -5_000 });

    await tx('admin', 'energy', 'mutate', '--community', id, '--trader', b, '--slot', slot, '--wh', '5000', '--description', 'supplied by external party');
    const final = await cli('query', 'energy', 'balances', '--community', id, '--slot', slot);
    expect(final.balances).toEqual([]);
    expect(final.totals.wh).toBe(0);
    // bob's history, newest first: the owner's mutation, then the reduction's two entries
    const newest = await cli('query', 'energy', 'history', '--community', id, '--trader', b, '--newest-first', '--limit', '3');
    expect(newest.entries.map((e: any) => e.kind)).toEqual(['mutate', 'reduce-in', 'reduce-out']);
    // list answers come a page at a time; the text form says how to go on
    const firstPage = await cli('query', 'energy', 'communities', '--limit', '1');
    expect(firstPage.communities.map((c: any) => c.id)).toEqual([id]);
    expect(firstPage.next).toBe(id);
    const { stdout: pageText } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, 'query', 'energy', 'communities', '--limit', '1'], { cwd: process.cwd() });
    expect(pageText).toContain(`more: --after ${id}`);
    expect((await cli('query', 'energy', 'communities', '--after', id)).communities.map((c: any) => c.id)).toEqual([childId]);
    const adjustments = await cli('query', 'energy', 'adjustments', '--community', id, '--limit', '1');
    expect(adjustments.adjustments.map((e: any) => [e.kind, e.deltaWh])).toEqual([['mutate', 5000]]);
    expect(adjustments).not.toHaveProperty('next');
    // a community's traders, meters and member communities page on from its detail; an account's communities
    const traders = await cli('query', 'energy', 'traders', '--community', id, '--limit', '2');
    expect(traders.traders.map((t: any) => t.address)).toEqual([a, b, node.init.accounts.admin!].sort().slice(0, 2));
    expect(traders.next).toBe(traders.traders[1].address);
    const { stdout: tradersText } = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, 'query', 'energy', 'traders', '--community', id, '--limit', '2'], { cwd: process.cwd() });
    expect(tradersText).toContain(`more: --after ${traders.next}`);
    expect((await cli('query', 'energy', 'meters', '--community', id, '--after', 'C1')).meters.map((m: any) => m.meterId)).toEqual(['P1']);
    expect((await cli('query', 'energy', 'children', '--community', id)).children).toEqual([childId]);
    const mine = await cli('query', 'energy', 'trader-communities', 'alice');
    expect(mine.communities.map((c: any) => [c.community.id, c.trader.status, c.meters])).toEqual([[id, 'active', ['P1']]]);

    // A rejected command exits non-zero with the ledger's code on stderr.
    const err = await run('node', ['bin/gridledger.mjs', '--home', node.home, '--node', node.url, '-o', 'json', '--from', 'alice', '--wait', 'tx', 'energy', 'transfer', '--community', id, '--to', b, '--slot', slot, '--labels', 'solar', '--wh', '1']).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(err?.code).toBe(1);
    expect(JSON.parse(err!.stderr).error.code).toBe('ENERGY_INSUFFICIENT_BALANCE');
  });
});
