import type { Command } from 'commander';
import { randomBytes } from 'node:crypto';
import { coreRoutes } from '../../api/routes.js';
import { call, CLI_ERRORS, keyringOf, opt, pageText, queryCommand, resolveAddress, signerName, txCommand } from '../../cli/kit.js';
import { messagingKeyHex } from '../../cli/msg.js';
import { loadVerifyingKey } from '../../zk/artifacts.js';
import { identityCommitment, signalHashForAddress } from '../../zk/circuits.js';
import { encodeProof } from '../../zk/encoding.js';
import { hashToField } from '../../zk/field.js';
import { PoseidonMerkleTree } from '../../zk/merkle.js';
import { epochField } from './keeper.js';
import { MEMBERSHIP_CIRCUIT, MSG, type AdmitMsg } from './messages.js';
import { anonRoutes } from './routes.js';

/**
 * CLI of the anon module: `tx anon register-key|register|revoke-member|admit` and `query anon
 * status|leaves|roots|member|account|nullifier`. The identity secret lives in the keyring as a
 * secret (encrypted like keys); proofs are made here, on the member's machine.
 */

export const IDENTITY_DOMAIN = 'GRIDLEDGER/ANON/IDENTITY/V1';

/** A member's identity secret (a field element) from the keyring secret's bytes. */
export function identitySecret(bytes: Uint8Array): bigint {
  return hashToField(IDENTITY_DOMAIN, bytes);
}

export interface AdmissionRequest {
  chainId: string;
  /** The member's identity secret. */
  secret: bigint;
  /** Every leaf of the members' tree (GET /v1/anon/leaves), in index order. */
  leaves: readonly string[];
  epoch: number;
  slot: number;
  maxSlots: number;
  /** The fresh account to admit (the transaction's sender). */
  address: string;
}

/** The prover (snarkjs, ~0.2 s to load) is loaded by the one command that proves, not by every CLI call. */
let prover: Promise<typeof import('../../zk/prove.js')> | undefined;
const loadProver = (): Promise<typeof import('../../zk/prove.js')> => (prover ??= import('../../zk/prove.js'));

/**
 * The anon/admit message for a fresh account: the member rebuilds the tree from all leaves (so no
 * node learns which leaf is its own), finds its commitment, and proves membership locally.
 */
export async function buildAdmission(r: AdmissionRequest): Promise<AdmitMsg> {
  const tree = new PoseidonMerkleTree();
  for (const leaf of r.leaves) {
    if (leaf === '0') tree.remove(tree.insert(1n));
    else tree.insert(BigInt(leaf));
  }
  const mine = identityCommitment(r.secret).toString();
  const index = r.leaves.indexOf(mine);
  if (index < 0) throw CLI_ERRORS.CLI_INVALID_OPTION("this identity's commitment is not in the members' tree (not registered, or revoked)");
  const { proveMembership } = await loadProver();
  const bundle = await proveMembership({ secret: r.secret, path: tree.path(index), epoch: epochField(r.chainId, r.epoch), slotIndex: BigInt(r.slot), maxSlots: BigInt(r.maxSlots), signalHash: signalHashForAddress(r.address) });
  return { root: bundle.publicInputs[0]!, nullifier: bundle.publicInputs[1]!, epoch: r.epoch, proof: JSON.parse(encodeProof(bundle.proof)) };
}

const identityOpt = opt.text('keyring secret holding the identity (default: <--from>-identity)', { arg: 'name' });

function identityName(cmd: Command, given: string | undefined): string {
  return given ?? `${signerName(cmd)}-identity`;
}

function registerTx(tx: Command): void {
  const anon = tx.command('anon').description('anonymous trade accounts: identity commitments and membership proofs');
  txCommand(anon, 'register-key', {
    description: 'register the membership circuit verifying key (operator): the versioned zk/artifacts/membership/vkey.json',
    msgs: () => [{ type: MSG.registerKey, value: { circuit: MEMBERSHIP_CIRCUIT, key: loadVerifyingKey('membership') } }],
  });
  txCommand(anon, 'register', {
    description: 'create an identity secret in the keyring (unless it exists) and register its commitment Poseidon(secret) as a member',
    options: { identity: identityOpt },
    msgs: (o, cmd) => {
      const keyring = keyringOf(cmd);
      const name = identityName(cmd, o.identity);
      if (!keyring.hasSecret(name)) keyring.addSecret(name, randomBytes(32));
      return [{ type: MSG.register, value: { commitment: identityCommitment(identitySecret(keyring.secret(name))).toString() } }];
    },
  });
  txCommand(anon, 'revoke-member', {
    description: "remove a member's identity commitment from the members' tree (operator)",
    args: ['address'],
    options: { reason: opt.text('why', { arg: 'text' }) },
    msgs: (o, cmd, [member]) => [{ type: MSG.revokeMember, value: { member: resolveAddress(cmd, member!, 'address'), ...(o.reason ? { reason: o.reason } : {}) } }],
  });
  txCommand(anon, 'admit', {
    description: 'admit the --from key (created fresh if absent) as an anonymous trade account with a membership proof of --identity',
    options: { identity: opt.text('keyring secret holding the member identity', { required: true, arg: 'name' }), slot: opt.int('slot index of this epoch, 0 ≤ slot < maxSlots', { default: '0' }) },
    msgs: async (o, cmd) => {
      const keyring = keyringOf(cmd);
      const name = signerName(cmd);
      const address = keyring.list().some((k) => k.name === name) ? keyring.show(name).address : keyring.add(name).address;
      const [status, anonStatus, leaves] = await Promise.all([call(cmd, coreRoutes.status, {}), call(cmd, anonRoutes.status, {}), call(cmd, anonRoutes.leaves, {})]);
      try {
        return [{ type: MSG.admit, value: await buildAdmission({ chainId: status.chainId, secret: identitySecret(keyring.secret(o.identity!)), leaves: leaves.leaves, epoch: anonStatus.epoch, slot: o.slot ?? 0, maxSlots: anonStatus.maxSlots, address }) }];
      } finally {
        if (prover) await (await prover).closeProver();
      }
    },
  });
  registerBoardTx(anon);
}

function registerBoardTx(anon: Command): void {
  txCommand(anon, 'offer', {
    description: 'post an offer on the anonymous board (from a trader-anon account)',
    options: {
      energyWh: opt.int('energy to deliver, Wh', { required: true }),
      amount: opt.text('price, whole micro-units of the asset', { required: true, arg: 'micro-units' }),
      asset: opt.text('asset id, e.g. NOK@microgrid', { required: true, arg: 'asset' }),
      deliveryStart: opt.int('delivery window start, ms since the epoch', { required: true }),
      deliveryEnd: opt.int('delivery window end, ms since the epoch', { required: true }),
      // not --memo: that is the global option, the transaction's memo, and would swallow it
      note: opt.text("free text shown with the offer (the offer's memo)", { arg: 'text' }),
      messagingKey: opt.text('per-trade messaging key buyers encrypt negotiation messages to: a local key name (gridledger msg keys add), a gridmsg1… address or 64 hex', { arg: 'key' }),
    },
    msgs: (o, cmd) => [{ type: MSG.offer, value: { energyWh: o.energyWh!, amount: o.amount!, asset: o.asset!, deliveryStart: o.deliveryStart!, deliveryEnd: o.deliveryEnd!, ...(o.note ? { memo: o.note } : {}), ...(o.messagingKey ? { messagingKey: messagingKeyHex(cmd, o.messagingKey) } : {}) } }],
  });
  txCommand(anon, 'take', {
    description: 'take an offer, naming the 2-of-3 escrow you opened for it (tx pay escrow-open --payee SELLER --mediator GRID-OPERATOR --threshold 2)',
    args: ['offer'],
    options: { escrow: opt.text('payments escrow id, e.g. e3', { required: true, arg: 'id' }) },
    msgs: (o, _cmd, [offer]) => [{ type: MSG.take, value: { offer: offer!, escrow: o.escrow! } }],
  });
  txCommand(anon, 'withdraw-offer', { description: 'withdraw your open offer', args: ['offer'], msgs: (_o, _cmd, [offer]) => [{ type: MSG.withdrawOffer, value: { offer: offer! } }] });
}

function registerQueries(query: Command): void {
  const anon = query.command('anon').description('anonymous trade accounts');
  queryCommand(anon, 'status', {
    description: "membership key, epoch, slot limit, members' tree size and the roots valid now",
    route: anonRoutes.status,
    input: () => ({}),
    text: (v) => [`key ${v.keyId ?? '(none registered)'}`, `epoch ${v.epoch} (${v.epochBlocks} blocks), ${v.maxSlots} accounts per member and epoch, lifetime ${v.accountLifetimeMs} ms`, `members' tree: ${v.treeSize} leaves, root ${v.currentRoot}`, `valid roots: ${v.validRoots.length}`].join('\n'),
  });
  queryCommand(anon, 'leaves', { description: "every leaf of the members' tree", route: anonRoutes.leaves, input: () => ({}), text: (v) => v.leaves.map((l, i) => `${i}  ${l}`).join('\n') || '(empty)' });
  queryCommand(anon, 'roots', { description: "history of the members' root", options: { limit: opt.int('most entries', { default: '100' }) }, route: anonRoutes.roots, input: (o) => ({ query: { limit: o.limit ?? 100 } }), text: (v) => v.roots.map((r) => `${r.height}  ${r.root}`).join('\n') || '(none)' });
  queryCommand(anon, 'member', { description: "a member's identity commitment", args: ['address'], route: anonRoutes.member, input: (_o, [address], cmd) => ({ params: { address: resolveAddress(cmd, address!, 'address') } }) });
  queryCommand(anon, 'account', { description: 'an anonymous account and its expiry', args: ['address'], route: anonRoutes.account, input: (_o, [address], cmd) => ({ params: { address: resolveAddress(cmd, address!, 'address') } }) });
  queryCommand(anon, 'offers', {
    description: 'the anonymous offer board',
    options: {
      status: opt.choice(['open', 'taken', 'withdrawn', 'all'] as const)('filter', { default: 'all' }),
      after: opt.text("continue after this cursor (the previous answer's next)", { arg: 'cursor' }),
      limit: opt.int('most offers', { default: '100' }),
    },
    route: anonRoutes.offers,
    input: (o) => ({ query: { status: o.status ?? 'all', ...(o.after ? { after: o.after } : {}), limit: o.limit ?? 100 } }),
    text: (v) => pageText(v.offers.map((x) => `${x.id.padEnd(5)} ${x.status.padEnd(9)} ${x.energyWh} Wh for ${x.amount} µ ${x.asset}  seller ${x.seller}${x.escrow ? `  escrow ${x.escrow}` : ''}`), v),
  });
  queryCommand(anon, 'offer', { description: 'one offer', args: ['id'], route: anonRoutes.offer, input: (_o, [id]) => ({ params: { id: id! } }) });
  queryCommand(anon, 'nullifier', { description: 'whether a nullifier was used', args: ['nullifier'], route: anonRoutes.nullifier, input: (_o, [nullifier]) => ({ params: { nullifier: nullifier! } }) });
}

export function registerAnonCli({ tx, query }: { tx: Command; query: Command }): void {
  registerTx(tx);
  registerQueries(query);
}
