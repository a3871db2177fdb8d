import { describe, expect, it } from 'vitest';
import { Signer } from '../../src/crypto/ed25519.js';
import { addressFromPublicKey } from '../../src/crypto/address.js';
import { DEFAULT_MESSAGING_PARAMS, composeBroadcast, composeSealed, fetchSince, generateMessagingKey, openInbox, toWire, type Envelope, type ListedMessage, type MessagePage } from '../../src/messaging/index.js';

/** The reading shared by the CLI and the dashboard (src/messaging/inbox.ts). */

const NOW = 1_800_000_000;
const NO_STAMP = new Uint8Array(8);
const wire = (unstamped: Omit<Envelope, 'stamp'>) => toWire({ ...unstamped, stamp: NO_STAMP });

describe('fetchSince', () => {
  it('pages past the 1000-message page limit and answers the head as the next cursor', async () => {
    const held: ListedMessage[] = Array.from({ length: 2500 }, (_, i) => ({ cursor: i + 1, envelope: { n: i + 1 } }));
    const asked: Array<[number, number]> = [];
    const listPage = async (after: number, limit: number): Promise<MessagePage> => {
      asked.push([after, limit]);
      return { messages: held.filter((m) => m.cursor > after).slice(0, limit), head: 2500 };
    };
    const all = await fetchSince(listPage, 0);
    expect(all.messages.map((m) => m.cursor)).toEqual(held.map((m) => m.cursor));
    expect(all.next).toBe(2500);
    expect(asked).toEqual([[0, 1000], [1000, 1000], [2000, 1000]]);
    // From a cursor on, only what is newer; nothing new keeps the cursor.
    expect((await fetchSince(listPage, 2400)).messages).toHaveLength(100);
    expect(await fetchSince(listPage, 2500)).toEqual({ messages: [], next: 2500 });
  });
});

describe('openInbox', () => {
  it("keeps what one of the keys opens (named by the key), every valid broadcast, and skips others' messages, malformed envelopes and forged broadcasts", () => {
    const mine = generateMessagingKey();
    const other = generateMessagingKey();
    const signer = new Signer(new Uint8Array(32).fill(7));
    const compose = { ttl: 600, now: NOW };
    const broadcast = composeBroadcast({ ...compose, content: { text: 'surplus at noon' }, signer });
    const forged = { ...broadcast, payload: new TextEncoder().encode(new TextDecoder().decode(broadcast.payload).replace('noon', 'nine')) };
    const messages: ListedMessage[] = [
      { cursor: 1, envelope: wire(composeSealed(mine.publicKey, { ...compose, content: { text: 'for me', replyTo: 'gridmsg1x' }, signer })) },
      { cursor: 2, envelope: wire(composeSealed(other.publicKey, { ...compose, content: { text: 'not for me' } })) },
      { cursor: 3, envelope: { v: 1, kind: 'sealed' } },
      { cursor: 4, envelope: wire(broadcast) },
      { cursor: 5, envelope: wire(forged) },
      { cursor: 6, envelope: wire(composeSealed(mine.publicKey, { ...compose, content: { text: 'anonymous' } })) },
    ];
    const opened = openInbox(messages, [{ name: 'spare', secretKey: generateMessagingKey().secretKey }, { name: 'mine', secretKey: mine.secretKey }], DEFAULT_MESSAGING_PARAMS);
    expect(opened.map((m) => [m.cursor, m.kind, m.key, m.from, m.text, m.replyTo])).toEqual([
      [1, 'sealed', 'mine', addressFromPublicKey(signer.publicKey), 'for me', 'gridmsg1x'],
      [4, 'broadcast', undefined, addressFromPublicKey(signer.publicKey), 'surplus at noon', undefined],
      [6, 'sealed', 'mine', undefined, 'anonymous', undefined],
    ]);
    // Without keys: the broadcast only.
    expect(openInbox(messages, [], DEFAULT_MESSAGING_PARAMS).map((m) => m.cursor)).toEqual([4]);
  });
});
