import type { Command } from 'commander';
import { fromHexStrict, toHex } from '../util/bytes.js';
import {
  composeBroadcast,
  composeSealed,
  fetchSince,
  generateMessagingKey,
  messagingAddress,
  messagingKeyFromSecret,
  messagingRoutes,
  mintStamp,
  openInbox,
  parseMessagingAddress,
  toWire,
  type InboxEntry,
} from '../messaging/index.js';
import { call, CLI_ERRORS, customCommand, keyringOf, opt, print, queryCommand, signerName } from './kit.js';
import type { Keyring } from '../crypto/keyring.js';

/**
 * `gridledger msg keys|send|inbox|watch`: encrypted messaging (docs/messaging.md). Messaging keys
 * are X25519 keys kept in the home's keyring as secrets named `msg-<name>` (encrypted at rest like
 * account keys). Sending stamps the message here (the proof of work runs on this machine, about
 * one second for 1 KiB living one hour); reading fetches every envelope since a cursor and tries
 * each with every local messaging key, so the node never learns which messages are ours.
 */

const SECRET_PREFIX = 'msg-';

interface MsgKey {
  name: string;
  address: string;
  secretKey: Uint8Array;
}

function msgKeyNames(keyring: Keyring): string[] {
  return keyring
    .secretNames()
    .filter((n) => n.startsWith(SECRET_PREFIX))
    .map((n) => n.slice(SECRET_PREFIX.length));
}

function loadMsgKey(keyring: Keyring, name: string): MsgKey {
  const pair = messagingKeyFromSecret(keyring.secret(SECRET_PREFIX + name));
  return { name, address: messagingAddress(pair.publicKey), secretKey: pair.secretKey };
}

function loadMsgKeys(keyring: Keyring, names: string[] | undefined): MsgKey[] {
  return (names && names.length > 0 ? names : msgKeyNames(keyring)).map((n) => loadMsgKey(keyring, n));
}

/**
 * A gridmsg1… address, the 64-hex public key an anonymous offer publishes (`anon/offer`'s
 * `messagingKey`, so a buyer writes to the offer's key as the board shows it), or the name of a
 * local messaging key.
 */
export function resolveMsgAddress(cmd: Command, value: string): string {
  if (value.startsWith('gridmsg1')) {
    parseMessagingAddress(value);
    return value;
  }
  const raw = fromHexStrict(value, 32);
  if (raw) return messagingAddress(raw);
  const keyring = keyringOf(cmd);
  if (msgKeyNames(keyring).includes(value)) return loadMsgKey(keyring, value).address;
  throw CLI_ERRORS.CLI_INVALID_OPTION(`expected a gridmsg1… address, a 64-hex messaging public key or the name of a messaging key (gridledger msg keys add), got ${JSON.stringify(value)}`);
}

/** The 64-hex public key of a messaging address or local key name (the form `anon/offer` carries). */
export function messagingKeyHex(cmd: Command, value: string): string {
  return toHex(parseMessagingAddress(resolveMsgAddress(cmd, value)));
}

function entryText(e: InboxEntry): string {
  const who = e.from ?? 'anonymous';
  const to = e.kind === 'broadcast' ? 'broadcast' : `to ${e.key}`;
  return `#${e.cursor}  ${to}  from ${who}${e.replyTo ? `  reply-to ${e.replyTo}` : ''}\n    ${e.text}`;
}

/** Every message after the cursor, through the shared pager (src/messaging/inbox.ts). */
function fetchFrom(cmd: Command, after: number) {
  return fetchSince((cursor, limit) => call(cmd, messagingRoutes.listMessages, { query: { after: cursor, limit } }), after);
}

export function registerMessagingCli(program: Command): void {
  const msg = program.command('msg').description('encrypted messages, off the ledger: messaging keys, send (with a proof-of-work stamp), inbox, watch');
  const keys = msg.command('keys').description('messaging keys (X25519) in the keyring');

  customCommand(keys, 'add', {
    description: 'create a messaging key; share its gridmsg1… address with those who should write to you (a new key per trade keeps trades unlinkable)',
    args: ['name'],
    run: (_o, cmd, [name]) => {
      const keyring = keyringOf(cmd);
      const pair = generateMessagingKey();
      keyring.addSecret(SECRET_PREFIX + name!, pair.secretKey);
      print(cmd, { name: name!, address: messagingAddress(pair.publicKey) }, (v) => `messaging key ${v.name}: ${v.address}`);
    },
  });

  customCommand(keys, 'list', {
    description: 'the messaging keys of this home and their addresses',
    run: (_o, cmd) => {
      const list = loadMsgKeys(keyringOf(cmd), undefined).map((k) => ({ name: k.name, address: k.address }));
      print(cmd, { keys: list }, (v) => (v.keys.length === 0 ? 'no messaging keys (gridledger msg keys add NAME)' : v.keys.map((k) => `${k.name}  ${k.address}`).join('\n')));
    },
  });

  customCommand(msg, 'send', {
    description: 'encrypt a message to a messaging address (or, with --broadcast, sign it for everyone), stamp it and submit it',
    options: {
      to: opt.text('recipient: a gridmsg1… address or a local messaging key name', { arg: 'msgaddress|key' }),
      text: opt.text('the message', { required: true }),
      ttl: opt.int('seconds the message lives (the stamp costs more for longer)', { default: '3600', arg: 's' }),
      replyTo: opt.text('a messaging address (or local key name) the recipient may answer to', { arg: 'msgaddress|key' }),
      sign: opt.flag('sign with the --from account key, so the recipient knows the sender (default: anonymous)'),
      broadcast: opt.flag('a message for everyone, signed with the --from account key'),
    },
    run: async (o, cmd) => {
      if (o.broadcast === (o.to !== undefined)) throw CLI_ERRORS.CLI_USAGE('give either --to ADDRESS or --broadcast');
      const params = await call(cmd, messagingRoutes.messagingParams, {});
      const content = { text: o.text, ...(o.replyTo !== undefined ? { replyTo: resolveMsgAddress(cmd, o.replyTo) } : {}) };
      const signer = o.sign || o.broadcast ? keyringOf(cmd).signer(signerName(cmd)) : undefined;
      // The node's clock, so a client clock that is off does not make the message expired or "from the future".
      const compose = { content, ttl: o.ttl ?? 3600, now: params.now, signer };
      const unstamped = o.broadcast ? composeBroadcast({ ...compose, signer: signer! }) : composeSealed(parseMessagingAddress(resolveMsgAddress(cmd, o.to!)), compose);
      if (process.stderr.isTTY) process.stderr.write('stamping (proof of work)…\n');
      const started = performance.now();
      const { stamp, trials } = mintStamp(unstamped, params);
      const ms = Math.round(performance.now() - started);
      const answer = await call(cmd, messagingRoutes.postMessage, { body: toWire({ ...unstamped, stamp }) });
      print(cmd, { ...answer, stamp: toHex(stamp), trials, stampMs: ms, expiresAt: unstamped.expiresAt }, (v) => `sent ${v.hash} (stamp: ${v.trials} trials in ${v.stampMs} ms; expires ${new Date(v.expiresAt * 1000).toISOString()})`);
    },
  });

  const readOptions = {
    keys: opt.list('messaging keys to try (default: all of this home)', { arg: 'name' }),
    after: opt.int('only messages after this cursor (the "next" of an earlier call)', { default: '0', arg: 'cursor' }),
  };

  customCommand(msg, 'inbox', {
    description: 'fetch the node\'s messages and show those that open with your messaging keys, and broadcasts',
    options: readOptions,
    run: async (o, cmd) => {
      const params = await call(cmd, messagingRoutes.messagingParams, {});
      const keyList = loadMsgKeys(keyringOf(cmd), o.keys);
      const { messages, next } = await fetchFrom(cmd, o.after ?? 0);
      const opened = openInbox(messages, keyList, params);
      print(cmd, { messages: opened, scanned: messages.length, next }, (v) => [...v.messages.map(entryText), `(${v.messages.length} of ${v.scanned} messages are yours or broadcasts; next cursor ${v.next})`].join('\n'));
    },
  });

  queryCommand(msg, 'stats', {
    description: "this node's messaging figures: messages held, accepted, duplicates, refused by code, relayed to peers",
    route: messagingRoutes.messagingStats,
    input: () => ({}),
    text: (v) =>
      [
        `held ${v.stored} messages (${v.bytes} bytes); accepted ${v.accepted}, duplicates ${v.duplicates}, evicted ${v.evicted}`,
        `refused: ${Object.entries(v.rejected).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'}`,
        v.relay.enabled ? `relay: received ${v.relay.received}, relayed ${v.relay.relayed}, rate-limited ${v.relay.rateLimited}, peers penalised ${v.relay.penalties}` : 'relay: off (no network)',
      ].join('\n'),
  });

  customCommand(msg, 'watch', {
    description: 'keep fetching and print each message for your keys (and each broadcast) as it arrives; -o json prints one JSON line each',
    options: { ...readOptions, intervalMs: opt.int('how often to ask the node', { default: '2000', arg: 'ms' }), count: opt.int('stop after this many messages', { arg: 'n' }) },
    run: async (o, cmd) => {
      const params = await call(cmd, messagingRoutes.messagingParams, {});
      const keyList = loadMsgKeys(keyringOf(cmd), o.keys);
      let cursor = o.after ?? 0;
      let shown = 0;
      for (;;) {
        const { messages, next } = await fetchFrom(cmd, cursor);
        cursor = next;
        for (const entry of openInbox(messages, keyList, params)) {
          print(cmd, entry, entryText);
          if (o.count !== undefined && ++shown >= o.count) return;
        }
        await new Promise((resolve) => setTimeout(resolve, o.intervalMs ?? 2000));
      }
    },
  });
}
