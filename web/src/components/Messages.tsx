import { ed25519 } from '@noble/curves/ed25519.js';
import { useEffect, useRef, useState } from 'react';
import type { Signer } from '../../../src/crypto/ed25519.js';
import { toWire } from '../../../src/messaging/envelope.js';
import { fetchSince, openInbox, type InboxEntry } from '../../../src/messaging/inbox.js';
import { stampWork } from '../../../src/messaging/params.js';
import { composeSealed, parseMessagingAddress } from '../../../src/messaging/seal.js';
import { mintStamp } from '../../../src/messaging/stamp.js';
import { fromHexStrict } from '../../../src/util/bytes.js';
import { LedgerError } from '../../../src/util/errors.js';
import { api } from '../lib/api';
import { errorMessage } from '../lib/errors';
import { forgetMsgKey, lockMsgKeys, newMsgSecret, parseMsgSecret, storedMsgKeys, storeMsgKey, unlockMsgKeys, useUnlockedMsgKeys, type UnlockedMsgKey } from '../lib/msgkeys';
import { useSession } from '../lib/session';
import { Card, ErrorBox, Short, Table } from './ui';

/**
 * Encrypted messages in the page (issue 16): the browser's messaging keys, an inbox that fetches the
 * node's messages since a cursor and trial-decrypts them here, and sending a sealed message with its
 * proof-of-work stamp minted here. The crypto is the CLI's (src/messaging/seal.ts, inbox.ts,
 * stamp.ts); the node only ever sees ciphertext, stamps and the requests any reader makes.
 */

function useBusy() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  return { busy, error, act };
}

/** Create, import, unlock and forget messaging keys; shows each unlocked key's gridmsg1… address. */
function MsgKeys({ keys }: { keys: UnlockedMsgKey[] }) {
  const [stored, setStored] = useState(storedMsgKeys);
  const [name, setName] = useState('');
  const [secretHex, setSecretHex] = useState('');
  const [pass, setPass] = useState('');
  const { busy, error, act } = useBusy();
  const create = () =>
    act(async () => {
      await storeMsgKey(name.trim(), secretHex.trim() ? parseMsgSecret(secretHex) : newMsgSecret(), pass);
      setStored(storedMsgKeys());
      setName('');
      setSecretHex('');
    });
  const locked = stored.filter((s) => !keys.some((k) => k.name === s.name));
  return (
    <div data-testid="msgkeys">
      <ErrorBox error={error} />
      <Table
        rows={keys}
        testId="msgkey-rows"
        empty="no messaging key unlocked in this page"
        rowKey={(k) => k.name}
        columns={[
          ['key', (k) => k.name],
          ['address (give it to who writes to you)', (k) => <code data-testid={`msgkey-address-${k.name}`}>{k.address}</code>],
          ['', (k) => <button type="button" onClick={() => (forgetMsgKey(k.name), setStored(storedMsgKeys()))}>Forget</button>],
        ]}
      />
      {locked.length > 0 && (
        <form className="inline" onSubmit={(e) => (e.preventDefault(), void act(async () => void (await unlockMsgKeys(pass))))}>
          <span className="muted">locked: {locked.map((k) => k.name).join(', ')}</span>
          <input type="password" placeholder="passphrase" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="msgkey-unlock-passphrase" />
          <button disabled={busy} data-testid="msgkey-unlock">Unlock</button>
        </form>
      )}
      <form className="inline" onSubmit={(e) => (e.preventDefault(), void create())} data-testid="msgkey-new">
        <input placeholder="key name, e.g. trade-1" value={name} onChange={(e) => setName(e.target.value)} data-testid="msgkey-name" />
        <input placeholder="secret hex (empty: generate)" value={secretHex} onChange={(e) => setSecretHex(e.target.value)} data-testid="msgkey-secret" />
        <input type="password" placeholder="passphrase (8+)" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="msgkey-passphrase" />
        <button disabled={busy} data-testid="msgkey-save">Create / import</button>
        {keys.length > 0 && <button type="button" onClick={lockMsgKeys}>Lock all</button>}
      </form>
    </div>
  );
}

interface InboxState {
  /** The key set the entries were opened with: another set reads from the start again. */
  keyNames: string;
  entries: InboxEntry[];
  cursor: number;
  scanned: number;
  lastScanned: number;
}

const EMPTY_INBOX = (keyNames: string): InboxState => ({ keyNames, entries: [], cursor: 0, scanned: 0, lastScanned: 0 });

/** The inbox: fetches only what is new since the kept cursor and opens it with the unlocked keys. */
function Inbox({ keys }: { keys: UnlockedMsgKey[] }) {
  const keyNames = keys.map((k) => k.name).join(',');
  const [inbox, setInbox] = useState<InboxState>(() => EMPTY_INBOX(keyNames));
  const { busy, error, act } = useBusy();
  const current = useRef(inbox);
  current.current = inbox;
  const keysNow = useRef(keys);
  keysNow.current = keys;
  const fetching = useRef(false);
  const again = useRef(false);
  const fetchNew = async () => {
    const keyList = keysNow.current;
    const names = keyList.map((k) => k.name).join(',');
    const from = current.current.keyNames === names ? current.current : EMPTY_INBOX(names);
    const params = await api.messaging.messagingParams({});
    const { messages, next } = await fetchSince((after, limit) => api.messaging.listMessages({ query: { after, limit } }), from.cursor);
    const opened = openInbox(messages, keyList, params);
    current.current = { keyNames: names, entries: [...from.entries, ...opened], cursor: next, scanned: from.scanned + messages.length, lastScanned: messages.length };
    setInbox(current.current);
  };
  // One fetch at a time (two overlapping ones would start from the same cursor and list a message
  // twice); a refresh asked for meanwhile runs after it, with the keys of that moment.
  const refresh = async () => {
    if (fetching.current) {
      again.current = true;
      return;
    }
    fetching.current = true;
    do {
      again.current = false;
      await act(fetchNew);
    } while (again.current);
    fetching.current = false;
  };
  // A new key set (unlocked, created, locked) reads every held message again.
  useEffect(() => void refresh(), [keyNames]);
  const rows = [...inbox.entries].reverse();
  return (
    <div data-testid="inbox">
      <ErrorBox error={error} />
      <p>
        <button disabled={busy} onClick={() => void refresh()} data-testid="inbox-refresh">Fetch new</button>{' '}
        <span className="muted" data-testid="inbox-status" data-cursor={inbox.cursor} data-last-scanned={inbox.lastScanned}>
          {inbox.entries.length} of {inbox.scanned} messages are yours or broadcasts; cursor {inbox.cursor} (last fetch: {inbox.lastScanned} new)
        </span>
      </p>
      <Table
        rows={rows}
        testId="inbox-rows"
        empty={keys.length === 0 ? 'unlock or create a messaging key to read messages sealed to you (broadcasts show anyway)' : 'no message for your keys yet'}
        rowKey={(m) => m.hash}
        columns={[
          ['#', (m) => m.cursor],
          ['to', (m) => (m.kind === 'broadcast' ? 'broadcast' : m.key)],
          ['from', (m) => (m.from ? <Short value={m.from} /> : <span className="muted">anonymous</span>)],
          ['message', (m) => <span data-testid={`inbox-text-${m.cursor}`}>{m.text}</span>],
          ['reply to', (m) => <Short value={m.replyTo} />],
          ['expires (UTC)', (m) => new Date(m.expiresAt * 1000).toISOString().slice(0, 16).replace('T', ' ')],
        ]}
      />
    </div>
  );
}

/** A recipient as `msg send --to` takes it: a gridmsg1… address or the 64-hex key an offer publishes. */
function recipientKey(value: string): Uint8Array {
  const v = value.trim();
  if (v.startsWith('gridmsg1')) return parseMessagingAddress(v);
  const raw = fromHexStrict(v.toLowerCase(), 32);
  if (!raw) throw new Error('send to a gridmsg1… address or a 64-hex messaging key');
  return raw;
}

/** The unlocked account key as the signer composeSealed takes (Ed25519 is deterministic: the CLI's signature). */
function pageSigner(publicKey: Uint8Array, secretKey: Uint8Array): Signer {
  return { publicKey, sign: (message: Uint8Array) => ed25519.sign(message, secretKey) } as unknown as Signer;
}

/** Trials per slice of the stamp search: small enough that the page repaints the progress between slices. */
const STAMP_SLICE = 20_000;

/** Mints the stamp with stamp.ts in slices (each from a fresh random nonce), reporting the trials so far. */
async function mintInSlices(unstamped: Parameters<typeof mintStamp>[0], params: Parameters<typeof mintStamp>[1], progress: (trials: number) => void): Promise<{ stamp: Uint8Array; trials: number }> {
  for (let done = 0; ; done += STAMP_SLICE) {
    progress(done);
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      const { stamp, trials } = mintStamp(unstamped, params, { maxTrials: STAMP_SLICE });
      return { stamp, trials: done + trials };
    } catch (err) {
      if (!(err instanceof LedgerError && err.code === 'MSG_STAMP_GAVE_UP')) throw err;
    }
  }
}

/** Compose a sealed message, stamp it here (proof of work, with progress) and post it. */
function Compose({ keys }: { keys: UnlockedMsgKey[] }) {
  const s = useSession();
  const [to, setTo] = useState('');
  const [text, setText] = useState('');
  const [ttl, setTtl] = useState('3600');
  const [replyTo, setReplyTo] = useState('');
  const [sign, setSign] = useState(false);
  const [progress, setProgress] = useState<string | null>(null);
  const [sent, setSent] = useState<string | null>(null);
  const { busy, error, act } = useBusy();
  const send = () =>
    act(async () => {
      setSent(null);
      const recipient = recipientKey(to);
      const seconds = Number(ttl);
      if (!Number.isSafeInteger(seconds)) throw new Error('the time to live is whole seconds');
      const params = await api.messaging.messagingParams({});
      // Checked before the proof of work, which the node would otherwise refuse afterwards (MSG_TTL_INVALID).
      if (seconds < params.minTtlSeconds || seconds > params.maxTtlSeconds) throw new Error(`the time to live is ${params.minTtlSeconds}–${params.maxTtlSeconds} s`);
      const reply = keys.find((k) => k.name === replyTo);
      const signer = sign && s.publicKey && s.secretKey ? pageSigner(s.publicKey, s.secretKey) : undefined;
      // The node's clock, as the CLI does, so a browser clock that is off does not make the message expired or from the future.
      const unstamped = composeSealed(recipient, { content: { text, ...(reply ? { replyTo: reply.address } : {}) }, ttl: seconds, now: params.now, signer });
      const expected = stampWork(unstamped.payload.length, unstamped.ttl, params);
      const started = performance.now();
      const { stamp, trials } = await mintInSlices(unstamped, params, (n) => setProgress(`stamping (proof of work): ${n} of about ${expected} trials…`));
      const ms = Math.round(performance.now() - started);
      setProgress(`stamped: ${trials} trials in ${ms} ms`);
      const answer = await api.messaging.postMessage({ body: toWire({ ...unstamped, stamp }) });
      setSent(answer.hash);
    });
  return (
    <form className="inline" onSubmit={(e) => (e.preventDefault(), void send())} data-testid="compose">
      <ErrorBox error={error} />
      <input placeholder="to: gridmsg1… or 64-hex key" value={to} onChange={(e) => setTo(e.target.value)} size={30} aria-label="recipient" data-testid="compose-to" />
      <input placeholder="message" value={text} onChange={(e) => setText(e.target.value)} size={30} aria-label="message" data-testid="compose-text" />
      <input value={ttl} onChange={(e) => setTtl(e.target.value)} size={6} aria-label="time to live (s)" title="seconds the message lives (the stamp costs more for longer)" data-testid="compose-ttl" />
      <select value={replyTo} onChange={(e) => setReplyTo(e.target.value)} aria-label="reply to" data-testid="compose-reply-to">
        <option value="">no reply key</option>
        {keys.map((k) => <option key={k.name} value={k.name}>reply to {k.name}</option>)}
      </select>
      {s.secretKey && (
        <label title="sign with the unlocked account key, so the recipient knows the sender (default: anonymous)">
          <input type="checkbox" checked={sign} onChange={(e) => setSign(e.target.checked)} data-testid="compose-sign" /> sign as {s.name}
        </label>
      )}
      <button disabled={busy} data-testid="compose-send">Seal, stamp &amp; send</button>
      {progress && <span className="muted" data-testid="compose-progress">{progress}</span>}
      {sent && <span className="ok" data-testid="compose-sent">sent <Short value={sent} /></span>}
    </form>
  );
}

export function Messages() {
  const keys = useUnlockedMsgKeys();
  return (
    <Card title="Messages (decrypted in this browser)" testId="private-messages" wide>
      <p className="muted">
        Messaging keys live in this browser, encrypted with a passphrase; the page fetches every message the node holds and opens those sealed to
        your keys here — the node never learns which ones are yours. Import a key of the CLI by its secret to read its messages here.
      </p>
      <MsgKeys keys={keys} />
      <Inbox keys={keys} />
      <Compose keys={keys} />
    </Card>
  );
}
