import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ARTIFACTS_DIR, CIRCUITS, artifactPath, assertArtifactHash, loadVerifyingKey, readCheckedArtifact, recordedSums } from '../../src/zk/artifacts.js';
import { verifyingKeyId } from '../../src/zk/encoding.js';

describe('versioned circuit artifacts', () => {
  it('every file under zk/artifacts/<circuit>/ has the SHA-256 that SHA256SUMS records, and nothing is unlisted', () => {
    const sums = recordedSums();
    const files = CIRCUITS.flatMap((c) => readdirSync(`${ARTIFACTS_DIR}${c}`).map((f) => `${c}/${f}`)).sort();
    expect([...sums.keys()].sort()).toEqual(files);
    for (const file of files) {
      const digest = createHash('sha256').update(readFileSync(`${ARTIFACTS_DIR}${file}`)).digest('hex');
      expect(digest, file).toBe(sums.get(file));
    }
  });

  it('each circuit has its wasm, final zkey and verifying key, kept small', () => {
    for (const c of CIRCUITS) {
      for (const kind of ['wasm', 'zkey', 'vkey'] as const) {
        const size = readFileSync(artifactPath(c, kind)).length;
        expect(size).toBeGreaterThan(0);
        expect(size).toBeLessThan(4 * 2 ** 20);
      }
    }
  });

  it('verifying keys have 5 public inputs and distinct ids', () => {
    const ids = CIRCUITS.map((c) => {
      const vk = loadVerifyingKey(c);
      expect(vk.ic).toHaveLength(6);
      return verifyingKeyId(vk);
    });
    expect(new Set(ids).size).toBe(CIRCUITS.length);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{64}$/);
  });

  it('a changed artifact or an unlisted name is refused with ZK_ARTIFACT_MISMATCH', () => {
    const zkey = readCheckedArtifact('deviation', 'zkey');
    expect(() => assertArtifactHash('deviation/deviation.zkey', zkey)).not.toThrow();
    const tampered = new Uint8Array(zkey);
    tampered[0] = tampered[0]! ^ 1;
    expect(() => assertArtifactHash('deviation/deviation.zkey', tampered)).toThrow(expect.objectContaining({ code: 'ZK_ARTIFACT_MISMATCH' }));
    expect(() => assertArtifactHash('deviation/other.zkey', zkey)).toThrow(expect.objectContaining({ code: 'ZK_ARTIFACT_MISMATCH' }));
  });
});
