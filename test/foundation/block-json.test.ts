import { describe, expect, it } from 'vitest';
import { blockHash, blockJson, blockSchema, txRoot } from '../../src/codec/block.js';
import { account, TestChain } from '../helpers/chain.js';

describe('blockJson: one encoding of a block for the database, the WAL and the peers', () => {
  it('parses to the block JSON.stringify gives, passes the block schema with the same roots, and is what the store returns', () => {
    const chain = new TestChain({ accounts: { alice: ['trader'] } });
    const alice = account('alice');
    const txs = [
      chain.tx(chain.operator, [{ type: 'registry/admit', value: { address: account('bob').address, roles: ['consumer'] } }]),
      chain.tx(alice, [{ type: 'registry/set-profile', value: { name: 'Alice "A" ✓', about: 'line\nbreak' } }]),
    ];
    chain.block(txs);
    const executed = chain.lastExecuted!;
    const block = executed.block;
    const json = blockJson(block);
    expect(JSON.parse(json)).toEqual(JSON.parse(JSON.stringify(block)));
    const decoded = blockSchema.parse(JSON.parse(json));
    expect(blockHash(decoded.header)).toBe(executed.hash);
    expect(txRoot(decoded.txs)).toBe(block.header.txRoot);
    expect(blockJson(block)).toBe(json); // computed once per block
    expect(chain.storage.getBlock(block.header.height)!.block).toEqual(JSON.parse(json));
    chain.storage.close();
  });
});
