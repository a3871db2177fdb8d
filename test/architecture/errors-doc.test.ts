import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { duplicateCodes, ERRORS_DOC, findCatalogues, renderErrorsDoc } from '../../scripts/errors-doc.js';

describe('error catalogue', () => {
  it('declares every code once, and docs/errors.md is generated from the declarations (npm run docs:errors)', async () => {
    const catalogues = await findCatalogues();
    expect(duplicateCodes(catalogues)).toEqual([]);
    expect(readFileSync(ERRORS_DOC, 'utf8')).toBe(renderErrorsDoc(catalogues));
  }, 60_000);

  it('finds every catalogue of the tree (each module and layer that raises errors)', async () => {
    const scopes = (await findCatalogues()).map((c) => c.scope);
    for (const scope of ['core', 'tx', 'block', 'kernel', 'registry', 'metering', 'energy', 'shares', 'settlement', 'api', 'cli', 'home', 'p2p', 'consensus', 'keyring', 'time']) expect(scopes).toContain(scope);
  }, 60_000);

  it('one name for internal errors: INTERNAL_ERROR (no other INTERNAL* code)', async () => {
    const codes = (await findCatalogues()).flatMap((c) => c.entries.map((e) => e.code));
    expect(codes.filter((c) => c.startsWith('INTERNAL'))).toEqual(['INTERNAL_ERROR']);
  }, 60_000);
});
