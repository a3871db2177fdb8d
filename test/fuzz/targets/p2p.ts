import fc from 'fast-check';
import { addressFromPublicKey } from '../../../src/crypto/address.js';
import { keyPairFromSeed, Signer } from '../../../src/crypto/ed25519.js';
import { CONTROL_CHANNEL, Control, isAppChannel } from '../../../src/p2p/channels.js';
import { DirectionalCipher } from '../../../src/p2p/cipher.js';
import { FramedSocket } from '../../../src/p2p/framed-socket.js';
import { encodeFrame, FrameError, FrameReader, LENGTH_PREFIX_BYTES } from '../../../src/p2p/frames.js';
import { chainTag, HANDSHAKE_MAX_FRAME_BYTES, HandshakeError, performHandshake, PROTOCOL_VERSION, type HandshakeResult } from '../../../src/p2p/handshake.js';
import { MIN_SESSION_FRAME_BYTES, Session } from '../../../src/p2p/session.js';
import { bytesEqual, concatBytes, utf8 } from '../../../src/util/bytes.js';
import { expectThat, fail, type FuzzTarget } from '../lib/engine.js';
import { memoryPair, TcpPairs, type LinkPair } from '../lib/link.js';
import { applyByteEdits, byteEdit, type ByteEdit } from '../lib/mutate.js';

/**
 * The P2P layer's decoders: the length-prefixed framing (FrameReader), the handshake (both roles,
 * through a man in the middle that edits one message, or facing raw bytes), and the encrypted
 * session (sealed frames on every channel, garbage, replays, split at random points).
 */

// ───────────────────────────── frames ─────────────────────────────

interface FramesInput {
  min: number;
  max: number;
  /** Frames to encode, or raw bytes to append. */
  parts: Array<{ frame: Uint8Array } | { raw: Uint8Array }>;
  cuts: number[];
}

const FRAME_ERROR_CODES = new Set(['P2P_OVERSIZE_FRAME', 'P2P_MALFORMED_FRAME']);

export function framesTarget(): FuzzTarget<FramesInput> {
  const part = fc.oneof(
    { weight: 4, arbitrary: fc.uint8Array({ maxLength: 300 }).map((frame) => ({ frame })) },
    { weight: 1, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 12 }).map((raw) => ({ raw })) },
  );
  return {
    name: 'frames',
    description: 'length-prefixed framing (FrameReader) on frames and garbage split at random points',
    arbitrary: fc.record({
      min: fc.oneof(fc.constantFrom(0, 1, 17), fc.integer({ min: 0, max: 40 })),
      max: fc.integer({ min: 40, max: 400 }),
      parts: fc.array(part, { maxLength: 8 }),
      cuts: fc.array(fc.nat({ max: 4000 }), { maxLength: 12 }),
    }),
    check({ min, max, parts, cuts }) {
      const wire = Buffer.concat(parts.map((p) => ('frame' in p ? encodeFrame(p.frame) : p.raw)));
      const positions = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const at of [...positions, wire.length]) {
        chunks.push(wire.subarray(from, at));
        from = at;
      }
      // The expected frames: decoding the whole stream at once with the same limits.
      const reader = new FrameReader(min, max);
      const got: Uint8Array[] = [];
      let consumed = 0;
      let error: string | undefined;
      outer: for (const chunk of chunks) {
        reader.push(chunk);
        for (;;) {
          let frame: Uint8Array | undefined;
          try {
            frame = reader.next();
          } catch (err) {
            if (!(err instanceof FrameError) || !FRAME_ERROR_CODES.has(err.code)) fail(`FrameReader threw ${String(err)}`);
            error = err.code;
            break outer;
          }
          if (!frame) break;
          expectThat(frame.length >= min && frame.length <= max, `frame of ${frame.length} bytes outside [${min}, ${max}]`);
          got.push(frame);
          consumed += LENGTH_PREFIX_BYTES + frame.length;
        }
      }
      expectThat(error !== undefined || reader.buffered === wire.length - consumed, 'buffered byte count is wrong');
      // Every frame returned is the next frame of the stream, in order.
      let offset = 0;
      for (const frame of got) {
        const length = wire.readUInt32BE(offset);
        expectThat(length === frame.length && bytesEqual(frame, wire.subarray(offset + 4, offset + 4 + length)), 'a frame differs from the stream');
        offset += 4 + length;
      }
      return error ?? (got.length > 0 ? 'frames' : 'none');
    },
  };
}

// ───────────────────────────── handshake ─────────────────────────────

const CHAIN = 'fuzz-p2p';
const key = (seed: number) => new Signer(keyPairFromSeed(new Uint8Array(32).fill(seed)).secretKey);
const INITIATOR = key(21);
const RESPONDER = key(22);
const idOf = (s: Signer) => addressFromPublicKey(s.publicKey);

const HANDSHAKE_REASONS = new Set(['timeout', 'closed', 'bad-hello', 'chain-mismatch', 'bad-message', 'auth-failed', 'oversize-frame', 'malformed-frame', 'buffer-overflow', 'refused:fuzz']);

type HandshakeInput =
  | { mode: 'mitm'; toResponder: boolean; index: number; edits: ByteEdit[]; refuse: boolean }
  | { mode: 'raw-to-responder' | 'raw-to-initiator'; bytes: Uint8Array };

/** A hello as an initiator sends it (with a fixed ephemeral key). */
function genuineHello(): Uint8Array {
  const body = concatBytes(utf8('GLP2'), new Uint8Array([PROTOCOL_VERSION]), chainTag(CHAIN), new Uint8Array(32).fill(9));
  return encodeFrame(body);
}

/** Outcome of one side: its result or the HandshakeError reason. */
async function settle(p: Promise<HandshakeResult>): Promise<HandshakeResult | string> {
  try {
    return await p;
  } catch (err) {
    if (!(err instanceof HandshakeError) || err.code !== 'P2P_HANDSHAKE_FAILED') fail(`handshake failed with an untyped error: ${String(err)}`);
    if (!HANDSHAKE_REASONS.has(err.reason)) fail(`unknown handshake failure reason ${err.reason}`);
    return err.reason;
  }
}

function handshake(link: Socket, role: 'initiator' | 'responder', refuse = false, timeoutMs = 2000): Promise<HandshakeResult | string> {
  const framed = new FramedSocket(link, 1, HANDSHAKE_MAX_FRAME_BYTES);
  return settle(performHandshake(framed, { role, chainId: CHAIN, signer: role === 'initiator' ? INITIATOR : RESPONDER, timeoutMs, authorize: () => (refuse ? 'fuzz' : undefined) }));
}
type Socket = LinkPair['a'];

/**
 * A man in the middle between two memory links: frames pass through, one of them (by direction and
 * index) with its body edited and re-framed. Returns whether the edit changed anything.
 */
function mitm(input: Extract<HandshakeInput, { mode: 'mitm' }>): { initiatorSide: Socket; responderSide: Socket; changed: () => boolean } {
  const left = memoryPair();
  const right = memoryPair();
  let changed = false;
  const relay = (from: Socket, to: Socket, toResponder: boolean) => {
    const reader = new FrameReader(0, 1 << 20);
    let index = 0;
    from.on('data', (chunk: Buffer) => {
      reader.push(chunk);
      for (let f = reader.next(); f; f = reader.next()) {
        let body = f;
        if (toResponder === input.toResponder && index === input.index) {
          body = applyByteEdits(f, input.edits);
          changed = !bytesEqual(body, f);
        }
        index++;
        to.write(encodeFrame(body));
      }
    });
    from.on('close', () => to.destroy());
  };
  relay(left.b, right.a, true);
  relay(right.a, left.b, false);
  return { initiatorSide: left.a, responderSide: right.b, changed: () => changed };
}

export function handshakeTarget(options: { transport?: 'memory' | 'tcp' } = {}): () => Promise<FuzzTarget<HandshakeInput>> {
  return async () => {
    const tcp = options.transport === 'tcp' ? new TcpPairs() : undefined;
    await tcp?.start();
    const pair = () => (tcp ? tcp.pair() : Promise.resolve(memoryPair()));
    const hello = genuineHello();
    const rawBytes = fc.oneof(
      fc.array(byteEdit, { minLength: 1, maxLength: 4 }).map((edits) => applyByteEdits(hello, edits)),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ minLength: 1, maxLength: 200 }).map((b) => encodeFrame(b)),
    );
    const modes: Array<fc.Arbitrary<HandshakeInput>> = [
      fc.record({ mode: fc.constantFrom('raw-to-responder' as const, 'raw-to-initiator' as const), bytes: rawBytes }),
    ];
    if (!tcp) {
      const mitmInput = fc.record({ mode: fc.constant('mitm' as const), toResponder: fc.boolean(), index: fc.nat({ max: 1 }), edits: fc.array(byteEdit, { minLength: 1, maxLength: 3 }), refuse: fc.boolean() });
      // Untouched handshakes (no edit, no refusal) in every run, so agreement is checked on each
      // (an edit that happens to change nothing is too rare to rely on).
      const untouched = fc.record({ mode: fc.constant('mitm' as const), toResponder: fc.boolean(), index: fc.nat({ max: 1 }), edits: fc.constant<ByteEdit[]>([]), refuse: fc.constant(false) });
      modes.unshift(mitmInput, untouched);
    }
    return {
      name: tcp ? 'handshake-tcp' : 'handshake',
      description: `the P2P handshake in both roles: one message edited in flight, or raw bytes (${tcp ? 'loopback TCP' : 'in memory'})`,
      arbitrary: fc.oneof(...modes),
      async check(input) {
        if (input.mode === 'mitm') {
          const m = mitm(input);
          const [i, r] = await Promise.all([handshake(m.initiatorSide, 'initiator', false), handshake(m.responderSide, 'responder', input.refuse)]);
          m.initiatorSide.destroy();
          m.responderSide.destroy();
          const bothUp = typeof i !== 'string' && typeof r !== 'string';
          if (m.changed() || input.refuse) {
            expectThat(!bothUp, 'the handshake succeeded although a message was changed in flight (or the peer was refused)');
            return `failed:${typeof i === 'string' ? i : '-'}/${typeof r === 'string' ? r : '-'}`;
          }
          if (!bothUp) fail(`an untouched handshake failed: ${String(i)} / ${String(r)}`);
          expectThat(i.peerId === idOf(RESPONDER) && r.peerId === idOf(INITIATOR), 'wrong peer identities');
          const probe = utf8('probe');
          expectThat(bytesEqual(r.receive.open(i.send.seal(probe)), probe), 'session keys do not match');
          return 'ok';
        }
        const { a, b } = await pair();
        const side = input.mode === 'raw-to-responder' ? 'responder' : 'initiator';
        const result = handshake(b, side);
        a.on('data', () => undefined);
        a.write(Buffer.from(input.bytes));
        a.end();
        const outcome = await result;
        a.destroy();
        b.destroy();
        if (typeof outcome !== 'string') fail('a handshake succeeded against raw bytes');
        return `${side}:${outcome}`;
      },
      close: () => tcp?.close(),
    };
  };
}

// ───────────────────────────── session ─────────────────────────────

type SessionOp = { kind: 'sealed'; channel: number; payload: Uint8Array } | { kind: 'raw'; bytes: Uint8Array } | { kind: 'replay' };

interface SessionInput {
  ops: SessionOp[];
  cuts: number[];
}

const MAX_FRAME = 512;

export function sessionTarget(): FuzzTarget<SessionInput> {
  const channel = fc.oneof({ weight: 6, arbitrary: fc.integer({ min: 1, max: 8 }) }, { weight: 1, arbitrary: fc.constantFrom(0, 9, 10, 99, 255) });
  const op: fc.Arbitrary<SessionOp> = fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('sealed' as const), channel, payload: fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 480, maxLength: 520 }), fc.constant(new Uint8Array([Control.ping]))) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('raw' as const), bytes: fc.uint8Array({ maxLength: 60 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'replay' as const }) },
  );
  return {
    name: 'session',
    description: 'an established encrypted session fed sealed frames on every channel, garbage and replays, split at random points',
    arbitrary: fc.record({ ops: fc.array(op, { minLength: 1, maxLength: 10 }), cuts: fc.array(fc.nat({ max: 5000 }), { maxLength: 10 }) }),
    async check({ ops, cuts }) {
      const keyBytes = new Uint8Array(32).fill(7);
      const send = new DirectionalCipher(keyBytes);
      // What the receiver must see: the app messages before the first violation, and that violation.
      const expected: Array<{ channel: number; payload: Uint8Array }> = [];
      let expectedViolation: string | undefined;
      const frames: Uint8Array[] = [];
      let last: Uint8Array | undefined;
      for (const o of ops) {
        let frame: Uint8Array;
        let verdict: string | undefined;
        if (o.kind === 'sealed') {
          frame = send.seal(concatBytes(new Uint8Array([o.channel]), o.payload));
          if (frame.length > MAX_FRAME) verdict = 'oversize-frame';
          else if (o.channel === CONTROL_CHANNEL) verdict = o.payload.length === 1 && o.payload[0] === Control.ping ? undefined : 'bad-control-message';
          else if (!isAppChannel(o.channel)) verdict = 'unknown-channel';
          else if (expectedViolation === undefined) expected.push({ channel: o.channel, payload: o.payload });
          last = frame;
        } else if (o.kind === 'raw') {
          frame = o.bytes;
          verdict = frame.length < MIN_SESSION_FRAME_BYTES ? 'malformed-frame' : 'decrypt-failed';
        } else {
          if (!last) continue;
          frame = last;
          verdict = 'decrypt-failed';
        }
        // A raw or replayed frame also consumes one receive counter, so everything after it fails to decrypt.
        expectedViolation ??= verdict;
        frames.push(encodeFrame(frame));
      }
      const { a, b } = memoryPair();
      const received: Array<{ channel: number; payload: Uint8Array }> = [];
      let violation: string | undefined;
      let closed = false;
      const link = new FramedSocket(b, 1, HANDSHAKE_MAX_FRAME_BYTES);
      const session = new Session(
        link,
        {
          peerId: 'fuzz',
          direction: 'inbound',
          initiatorId: 'fuzz',
          send: new DirectionalCipher(new Uint8Array(32).fill(8)),
          receive: new DirectionalCipher(keyBytes),
          maxFrameBytes: MAX_FRAME,
          rateLimit: { messagesPerSec: 1e6, messagesBurst: 1e6, bytesPerSec: 1e9, bytesBurst: 1e9 },
          pingIntervalMs: 60_000,
          idleTimeoutMs: 120_000,
          now: () => 0,
        },
        {
          onMessage: (ch, payload) => void received.push({ channel: ch, payload: Uint8Array.from(payload) }),
          onViolation: (reason) => {
            violation ??= reason;
            session.close(reason); // what the peer switch does
          },
          onClose: () => void (closed = true),
          onDrain: () => undefined,
        },
      );
      session.start();
      const wire = Buffer.concat(frames);
      const positions = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((x, y) => x - y);
      let from = 0;
      for (const at of [...positions, wire.length]) {
        if (at > from) a.write(wire.subarray(from, at));
        from = at;
      }
      // Memory links deliver asynchronously: wait until the session saw everything or closed.
      for (let i = 0; i < 50 && !closed && link.bytesIn < wire.length; i++) await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      session.close('done');
      a.destroy();
      expectThat(violation === expectedViolation, `violation ${String(violation)}, expected ${String(expectedViolation)}`);
      expectThat(received.length === expected.length, `delivered ${received.length} messages, expected ${expected.length}`);
      received.forEach((m, i) => expectThat(m.channel === expected[i]!.channel && bytesEqual(m.payload, expected[i]!.payload), `message ${i} differs`));
      return violation ?? (received.length > 0 ? 'delivered' : 'nothing');
    },
  };
}
