import { readFileSync } from 'node:fs';
import { callRoute } from '../../../api/client.js';
import { coreRoutes } from '../../../api/routes.js';
import { intervalRoot, isBitcoinNetwork, verifyCoverage, type BitcoinNetwork, type InclusionPath } from '../../../bitcoin/index.js';
import { EsploraBackend } from '../../../bitcoin/service.js';
import { blockHash, type BlockHeader } from '../../../codec/block.js';
import { CLI_ERRORS } from '../../../cli/kit.js';
import { E } from '../errors.js';
import { anchorRoutes } from '../routes.js';
import { checkpointOf } from '../rules.js';
import type { AnchorRecord, CheckpointRecord } from '../state.js';
import { verifyCheckpointAnchor, type VerificationReport } from '../verify.js';

/**
 * `gridledger verify anchor`: the ledger side is recomputed from what the node serves — block H's
 * header (its hash computed here, its state root, its chain id; block H + 1 must link to that hash)
 * and the items of the interval (their Merkle root computed here) — and compared with the recorded
 * checkpoint, the Bitcoin transaction, the Merkle branch and the header's proof of work.
 */

export interface VerifyAnchorOptions {
  /** Check this header (hex, from a file) instead of the one the ledger recorded. */
  headerHex?: string;
  headerSource?: string;
  /** Fetch the header of the recorded block from this Esplora server. */
  esploraUrl?: string;
  /** Check this raw transaction (hex) instead of the recorded one. */
  rawTx?: string;
  /** Override the ledger's network parameter for the proof-of-work limit. */
  network?: BitcoinNetwork;
  maxTarget?: bigint;
}

export interface CoverageResult {
  item: string;
  index: number;
  leafCount: number;
  intervalRoot: string;
  digest: string;
}

export interface AnchorVerification extends VerificationReport {
  coverage?: CoverageResult;
}

async function allItems(url: string, height: number): Promise<string[]> {
  const items: string[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await callRoute(url, anchorRoutes.checkpointItems, { params: { height }, query: { limit: 10_000, ...(cursor ? { cursor } : {}) } });
    items.push(...page.items.map((i) => i.item));
    if (!page.next) return items;
    cursor = page.next;
  }
}

/** The block's hash recomputed from its header; the next block, if there is one, must link to it. */
async function ledgerBlock(url: string, height: number): Promise<{ header: BlockHeader; hash: string; problem?: string }> {
  const { block } = await callRoute(url, coreRoutes.getBlock, { params: { height } });
  const header = block.header as unknown as BlockHeader;
  const hash = blockHash(header);
  if (header.height !== height) return { header, hash, problem: `the node served block ${header.height} for height ${height}` };
  const status = await callRoute(url, coreRoutes.status, {});
  if (status.height > height) {
    const next = (await callRoute(url, coreRoutes.getBlock, { params: { height: height + 1 } })).block.header as unknown as BlockHeader;
    if (next.prevHash !== hash) return { header, hash, problem: `block ${height} hashes to ${hash}, but block ${height + 1} links to ${next.prevHash}` };
  }
  return { header, hash };
}

export async function verifyAnchorOverApi(url: string, height: number, options: VerifyAnchorOptions = {}): Promise<AnchorVerification> {
  const { checkpoint, anchor } = await callRoute(url, anchorRoutes.getCheckpoint, { params: { height } });
  const { params } = await callRoute(url, anchorRoutes.anchorStatus, {});
  const network = options.network ?? params.network;
  if (!isBitcoinNetwork(network)) throw CLI_ERRORS.CLI_INVALID_OPTION(`unknown network ${network}`);
  const block = await ledgerBlock(url, height);
  const ledger = checkpointOf(block.header.chainId, { height, blockHash: block.hash, stateRoot: block.header.stateRoot, intervalRoot: intervalRoot(await allItems(url, height)) });
  let header: { hex: string; source: string } | undefined;
  if (options.headerHex !== undefined) header = { hex: options.headerHex, source: options.headerSource ?? 'given header' };
  else if (options.esploraUrl && anchor?.confirmation) {
    header = { hex: await new EsploraBackend({ baseUrl: options.esploraUrl.replace(/\/+$/, '') }).getBlockHeader(anchor.confirmation.blockHash), source: options.esploraUrl };
  }
  return verifyCheckpointAnchor({
    ledger,
    recorded: checkpoint as CheckpointRecord,
    anchor: (anchor ?? undefined) as AnchorRecord | undefined,
    network,
    ...(options.rawTx !== undefined ? { rawTx: options.rawTx } : {}),
    ...(header ? { header } : {}),
    ...(options.maxTarget !== undefined ? { maxTarget: options.maxTarget } : {}),
    ...(block.problem ? { ledgerCheck: () => {
      throw E.ANCHOR_CHECKPOINT_MISMATCH(block.problem!);
    } } : {}),
  });
}

/** "This item is covered by an anchored checkpoint": the path is checked here, then the checkpoint's anchor. */
export async function verifyItemOverApi(url: string, item: string, options: VerifyAnchorOptions = {}): Promise<AnchorVerification> {
  const inclusion = await callRoute(url, anchorRoutes.inclusion, { params: { item } });
  const checkpoint = checkpointOf(inclusion.chainId, inclusion.checkpoint);
  const digest = verifyCoverage(item, { checkpoint, path: inclusion.path as InclusionPath });
  const report = await verifyAnchorOverApi(url, inclusion.checkpoint.height, options);
  return { ...report, coverage: { item, index: inclusion.path.index, leafCount: inclusion.path.leafCount, intervalRoot: checkpoint.intervalRoot, digest } };
}

/** Hex from a file (whitespace trimmed), as written by the offline backend or `bitcoin-cli getblockheader HASH false`. */
export function readHexFile(path: string, what: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw CLI_ERRORS.CLI_ERROR(`cannot read ${what} ${path}: ${(err as Error).message}`);
  }
  const hex = text.trim().toLowerCase();
  if (!/^(?:[0-9a-f]{2})+$/.test(hex)) throw CLI_ERRORS.CLI_INVALID_OPTION(`${what} ${path} does not hold hex`);
  return hex;
}
