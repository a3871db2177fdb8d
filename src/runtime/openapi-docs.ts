import { z } from 'zod';
import { jsonSchema, type OpenApiExtras } from '../api/openapi.js';
import type { ModuleCore } from '../app/module.js';
import { MAX_MSGS_PER_TX, signTx, txHash, txSignBytes, txBodySchema, type TxBody } from '../codec/tx.js';
import { addressFromPublicKey } from '../crypto/address.js';
import { keyPairFromSeed, Signer } from '../crypto/ed25519.js';
import { sha256 } from '../crypto/hash.js';
import { toHex, utf8 } from '../util/bytes.js';
import { canonicalJson } from '../util/canonical.js';

/**
 * The transaction part of the OpenAPI document, generated from the same zod schemas the ledger
 * checks: the signed envelope, the body, one schema per message type of this build's modules, and
 * the sign-bytes rule with a worked example computed by the signing code itself.
 */

const MESSAGE_PREFIX = 'Msg_';

function schemaName(type: string): string {
  return MESSAGE_PREFIX + type.replace(/[^A-Za-z0-9]+/g, '_');
}

function messageSchemas(modules: readonly ModuleCore[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const m of modules) {
    for (const [type, handler] of Object.entries(m.messages).sort(([a], [b]) => (a < b ? -1 : 1))) {
      out[schemaName(type)] = jsonSchema(z.object({ type: z.literal(type), value: handler.schema }).strict().describe(`${type} (module ${m.name})`));
    }
  }
  return out;
}

/** A worked example signed with a published throw-away key (never use it for anything else). */
export function signingExample(chainId: string): { body: TxBody; canonicalBody: string; signBytesHex: string; hash: string; pubKey: string; signature: string } {
  const key = keyPairFromSeed(sha256(utf8('GRIDLEDGER/OPENAPI-EXAMPLE-KEY')));
  const signer = new Signer(key.secretKey);
  const sender = addressFromPublicKey(key.publicKey);
  const body: TxBody = {
    chainId,
    sender,
    nonce: 0,
    expiresAtHeight: 100,
    msgs: [{ type: 'registry/admit', value: { address: sender, roles: ['prosumer'] } }],
    memo: '',
  };
  const signed = signTx(body, signer);
  return { body, canonicalBody: canonicalJson(body), signBytesHex: toHex(txSignBytes(body)), hash: txHash(body), pubKey: signed.pubKey, signature: signed.signature };
}

function description(chainId: string): string {
  const ex = signingExample(chainId);
  return [
    'Every route answers errors as `{"error": {"code", "message"}}` with a stable code (docs/errors.md).',
    '',
    '## Transactions',
    '',
    'A transaction is `{"body": TxBody, "pubKey": hex32, "signature": hex64}` (schema `SignedTx`). Its messages are',
    '`{"type": "<module>/<action>", "value": …}`, one schema per type below (`Msg_*`).',
    '',
    '- **Canonical JSON** of the body: object keys sorted by UTF-16 code units (as RFC 8785), no whitespace, strings',
    '  escaped as `JSON.stringify` does, numbers only as safe integers (amounts and powers travel as decimal strings).',
    '- **Sign bytes** = UTF-8 `GRIDLEDGER/TX/V1`, one `0x00` byte, then the canonical JSON of the body.',
    '- **Hash** (the transaction id) = SHA-256 of the sign bytes, lowercase hex.',
    '- **Signature** = Ed25519 (RFC 8032) over the sign bytes with the key whose address is `body.sender`; `pubKey` is',
    '  that key (32 bytes, hex). The nonce is the sender\'s next nonce (`GET /v1/accounts/{address}/nonce`).',
    '',
    `Worked example (chain id \`${chainId}\`, a published example key — never use it):`,
    '',
    '```',
    `canonical body  ${ex.canonicalBody}`,
    `sign bytes hex  ${ex.signBytesHex}`,
    `hash            ${ex.hash}`,
    `pubKey          ${ex.pubKey}`,
    `signature       ${ex.signature}`,
    '```',
  ].join('\n');
}

/** Shared schemas and the description of the node's OpenAPI document. */
export function transactionDocs(chainId: string, modules: readonly ModuleCore[]): OpenApiExtras {
  const messages = messageSchemas(modules);
  const body = jsonSchema(txBodySchema) as { properties: Record<string, unknown> };
  const msgRefs = Object.keys(messages).map((name) => ({ $ref: `#/components/schemas/${name}` }));
  const ex = signingExample(chainId);
  return {
    description: description(chainId),
    schemas: {
      ...messages,
      Message: { oneOf: msgRefs, description: 'A message of one of the types this node runs' },
      TxBody: { ...body, properties: { ...body.properties, msgs: { type: 'array', minItems: 1, maxItems: MAX_MSGS_PER_TX, items: { $ref: '#/components/schemas/Message' } } } },
      SignedTx: {
        type: 'object',
        required: ['body', 'pubKey', 'signature'],
        additionalProperties: false,
        properties: {
          body: { $ref: '#/components/schemas/TxBody' },
          pubKey: { type: 'string', pattern: '^[0-9a-f]{64}$', description: 'Ed25519 public key of body.sender (hex)' },
          signature: { type: 'string', pattern: '^[0-9a-f]{128}$', description: 'Ed25519 signature over "GRIDLEDGER/TX/V1" ‖ 0x00 ‖ canonicalJson(body) (hex)' },
        },
        examples: [{ body: ex.body, pubKey: ex.pubKey, signature: ex.signature }],
      },
    },
  };
}
