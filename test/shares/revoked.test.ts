import { describe, expect, it } from 'vitest';
import { A, B, moduleState, newChain, registerMsg, slotAt, transferMsg, util } from './fixture.js';

/** Issue 9 (low): a revoked participant cannot receive PV portions. */
describe('portion transfers to a revoked participant', () => {
  it('are refused with SHARES_RECIPIENT_REVOKED and change nothing', () => {
    const chain = newChain(Date.UTC(2026, 5, 1));
    expect(chain.send(util, registerMsg()).code).toBe('OK');
    const start = slotAt(Date.UTC(2026, 5, 2, 8, 0));
    expect(chain.send(A, transferMsg(B.address, 1_000, start, start + 4)).code).toBe('OK');
    expect(chain.send(chain.operator, { type: 'registry/revoke', value: { address: B.address } }).code).toBe('OK');
    const before = moduleState(chain);
    const r = chain.send(A, transferMsg(B.address, 1_000, start, start + 4));
    expect(r.code, r.message).toBe('SHARES_RECIPIENT_REVOKED');
    expect(moduleState(chain)).toEqual(before);
  });
});
