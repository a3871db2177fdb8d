import { fromWire, type Envelope } from './envelope.js';
import type { MessagingParams } from './params.js';
import { openBroadcast, openSealed, type OpenedMessage } from './seal.js';

/**
 * Reading messages, shared by the CLI (`gridledger msg inbox|watch`) and the dashboard's inbox:
 * fetch every envelope a node holds after a cursor (GET /v1/messages, oldest first) and try each
 * sealed one with every local messaging key. The node serves all messages to everyone, so it never
 * learns which ones a client could open.
 */

/** One entry of GET /v1/messages. */
export interface ListedMessage {
  cursor: number;
  envelope: unknown;
}

export interface MessagePage {
  messages: ListedMessage[];
  head: number;
}

/** A messaging key to try: its (local) name and X25519 secret. */
export interface InboxKey {
  name: string;
  secretKey: Uint8Array;
}

export interface InboxEntry extends OpenedMessage {
  cursor: number;
  /** The local messaging key that opened it (broadcasts: none). */
  key?: string;
}

/** The largest page GET /v1/messages serves. */
export const MESSAGE_PAGE_LIMIT = 1000;

/** Every message after `after`, page by page; `next` is the cursor for the following call. */
export async function fetchSince(listPage: (after: number, limit: number) => Promise<MessagePage>, after: number): Promise<{ messages: ListedMessage[]; next: number }> {
  const all: ListedMessage[] = [];
  for (let cursor = after; ; ) {
    const page = await listPage(cursor, MESSAGE_PAGE_LIMIT);
    all.push(...page.messages);
    if (page.messages.length < MESSAGE_PAGE_LIMIT) return { messages: all, next: Math.max(after, page.head) };
    cursor = page.messages[page.messages.length - 1]!.cursor;
  }
}

function tryOpen(env: Envelope, key: InboxKey): OpenedMessage | null {
  try {
    return openSealed(env, key.secretKey);
  } catch {
    return null;
  }
}

/** Tries each envelope with every key; keeps what opens, and every valid broadcast. Malformed ones are skipped. */
export function openInbox(messages: readonly ListedMessage[], keys: readonly InboxKey[], params: Pick<MessagingParams, 'maxPayloadBytes'>): InboxEntry[] {
  const out: InboxEntry[] = [];
  for (const m of messages) {
    let env: Envelope;
    try {
      env = fromWire(m.envelope, params);
    } catch {
      continue;
    }
    if (env.kind === 'broadcast') {
      try {
        out.push({ cursor: m.cursor, ...openBroadcast(env) });
      } catch {
        /* a node relays only signed broadcasts; skip a damaged one */
      }
      continue;
    }
    for (const key of keys) {
      const opened = tryOpen(env, key);
      if (opened) {
        out.push({ cursor: m.cursor, key: key.name, ...opened });
        break;
      }
    }
  }
  return out;
}
