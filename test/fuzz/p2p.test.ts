import { describe, expect, it } from 'vitest';
import { fuzzInTest } from './lib/engine.js';
import { framesTarget, handshakeTarget, sessionTarget } from './targets/p2p.js';

describe('fuzz: the P2P layer', () => {
  it('framing: frames come out exactly as sent, however split; bad lengths are P2P_* frame errors', async () => {
    const report = await fuzzInTest(framesTarget, 4000);
    expect(report.outcomes.get('frames') ?? 0).toBeGreaterThan(100);
    expect(report.outcomes.get('P2P_OVERSIZE_FRAME') ?? 0).toBeGreaterThan(10);
  });

  it('handshake: any edit of a message in flight, and raw bytes, fail with a typed reason; untouched handshakes agree on keys', async () => {
    const report = await fuzzInTest(handshakeTarget(), 600);
    expect(report.outcomes.get('ok') ?? 0).toBeGreaterThan(0);
    expect([...report.outcomes.keys()].filter((k) => k.startsWith('failed:')).length).toBeGreaterThan(2);
  });

  it('handshake over real loopback TCP: raw bytes in both roles fail with a typed reason', async () => {
    const report = await fuzzInTest(handshakeTarget({ transport: 'tcp' }), 150);
    expect(report.outcomes.size).toBeGreaterThan(2);
  });

  it('session: app messages are delivered in order until the first violation, which has the expected reason', async () => {
    const report = await fuzzInTest(sessionTarget, 1500);
    for (const reason of ['delivered', 'decrypt-failed', 'unknown-channel', 'oversize-frame']) expect(report.outcomes.get(reason) ?? 0, reason).toBeGreaterThan(0);
  });
});
