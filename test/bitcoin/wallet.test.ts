import { pbkdf2Sync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HDKey } from '@scure/bip32';
import { describe, expect, it } from 'vitest';
import { AnchorWallet, coinType } from '../../src/bitcoin/service.js';

interface Bip32Vectors {
  vectors: { vector: number; seed: string; chains: { path: string; xpub: string; xprv: string }[] }[];
  invalid: { key: string; reason: string }[];
}
const BIP32: Bip32Vectors = JSON.parse(readFileSync(new URL('./bip32-vectors.json', import.meta.url), 'utf8'));

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code ?? 'untyped';
  }
  return 'no error';
};

describe('BIP32 official test vectors (@scure/bip32)', () => {
  for (const v of BIP32.vectors) {
    it(`vector ${v.vector}: xprv and xpub at every listed path`, () => {
      const master = HDKey.fromMasterSeed(Buffer.from(v.seed, 'hex'));
      expect(v.chains.length).toBeGreaterThanOrEqual(2);
      for (const c of v.chains) {
        const key = master.derive(c.path);
        expect(key.privateExtendedKey, c.path).toBe(c.xprv);
        expect(key.publicExtendedKey, c.path).toBe(c.xpub);
        // Public derivation from the parent xpub agrees wherever the last step is not hardened.
        const steps = c.path.split('/');
        const last = steps[steps.length - 1]!;
        if (steps.length > 1 && !last.endsWith("'")) {
          const parent = HDKey.fromExtendedKey(master.derive(steps.slice(0, -1).join('/')).publicExtendedKey);
          expect(parent.deriveChild(Number(last)).publicExtendedKey, `${c.path} from xpub`).toBe(c.xpub);
        }
      }
    });
  }

  it('vector 5: invalid extended keys are refused', () => {
    expect(BIP32.invalid.length).toBe(16);
    for (const bad of BIP32.invalid) expect(() => HDKey.fromExtendedKey(bad.key), bad.reason).toThrow();
  });
});

/** BIP39 seed from a mnemonic (PBKDF2-HMAC-SHA512, 2048 rounds, salt "mnemonic"): only to reach BIP84's vectors. */
const bip39Seed = (mnemonic: string) => pbkdf2Sync(mnemonic.normalize('NFKD'), 'mnemonic', 2048, 64, 'sha512');

describe('AnchorWallet: BIP84 derivation and P2WPKH addresses', () => {
  const seed = new Uint8Array(bip39Seed('abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about'));

  it('matches the BIP84 test vectors (m/84\'/0\'/0\'/0/0 and /0/1 on mainnet)', () => {
    const wallet = AnchorWallet.fromSeed({ seed, network: 'mainnet' });
    const [a0, a1] = wallet.addresses();
    expect(a0).toMatchObject({ path: "m/84'/0'/0'/0/0", publicKey: '0330d54fd0dd420a6e5f8d3624f5f3482cae350f79d5f0753bf5beef9c2d91af3c', address: 'bc1qcr8te4kr609gcawutmrza0j4xv80jy8z306fyu' });
    expect(a1).toMatchObject({ path: "m/84'/0'/0'/0/1", publicKey: '03e775fd51f0dfb8cd865d9ff1cca2a158cf651fe997fdc9fee9c1d3b5e995ea77', address: 'bc1qnjg0jd8228aq7egyzacy8cys3knf9xvrerkf9g' });
    // BIP84's account zpub is the same key as our xpub, with SLIP-132 version bytes.
    const zpub = HDKey.fromMasterSeed(seed, { private: 0x04b2430c, public: 0x04b24746 }).derive("m/84'/0'/0'").publicExtendedKey;
    expect(zpub).toBe('zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs');
    expect(HDKey.fromExtendedKey(wallet.accountXpub).publicKey).toEqual(HDKey.fromExtendedKey(zpub, { private: 0x04b2430c, public: 0x04b24746 }).publicKey);
    expect(a0!.scriptPubKey).toMatch(/^0014[0-9a-f]{40}$/);
  });

  it('uses coin type 1 and the network\'s address prefix on testnet, signet and regtest', () => {
    const main = AnchorWallet.fromSeed({ seed, network: 'mainnet' }).address(0);
    const byNetwork = Object.fromEntries((['testnet', 'signet', 'regtest'] as const).map((n) => [n, AnchorWallet.fromSeed({ seed, network: n })]));
    expect(coinType('mainnet')).toBe(0);
    expect(byNetwork.testnet!.address(0).path).toBe("m/84'/1'/0'/0/0");
    expect(byNetwork.testnet!.address(0).address).toMatch(/^tb1q/);
    expect(byNetwork.signet!.address(0).address).toBe(byNetwork.testnet!.address(0).address);
    expect(byNetwork.regtest!.address(0).address).toMatch(/^bcrt1q/);
    expect(byNetwork.regtest!.address(0).publicKey).toBe(byNetwork.testnet!.address(0).publicKey);
    expect(byNetwork.testnet!.address(0).publicKey).not.toBe(main.publicKey);
    expect(byNetwork.testnet!.accountXpub).toMatch(/^tpub/);
    expect(AnchorWallet.fromSeed({ seed, network: 'testnet', account: 1 }).address(0).path).toBe("m/84'/1'/1'/0/0");
  });

  it('sender and receiver swap each time (and go round with more addresses)', () => {
    const two = AnchorWallet.fromSeed({ seed, network: 'regtest' });
    const roles = [0, 1, 2, 3].map((n) => two.rolesFor(n));
    expect(roles.map((r) => [r.sender.index, r.receiver.index])).toEqual([[0, 1], [1, 0], [0, 1], [1, 0]]);
    expect(roles[1]!.sender.address).toBe(roles[0]!.receiver.address);
    const three = AnchorWallet.fromSeed({ seed, network: 'regtest', addressCount: 3 });
    expect([0, 1, 2, 3].map((n) => [three.rolesFor(n).sender.index, three.rolesFor(n).receiver.index])).toEqual([[0, 1], [1, 2], [2, 0], [0, 1]]);
  });

  it('refuses bad parameters with a typed error', () => {
    expect(code(() => AnchorWallet.fromSeed({ seed: new Uint8Array(15), network: 'regtest' }))).toBe('ANCHOR_WALLET_INVALID');
    expect(code(() => AnchorWallet.fromSeed({ seed, network: 'litecoin' as never }))).toBe('ANCHOR_WALLET_INVALID');
    expect(code(() => AnchorWallet.fromSeed({ seed, network: 'regtest', addressCount: 1 }))).toBe('ANCHOR_WALLET_INVALID');
    expect(code(() => AnchorWallet.fromSeed({ seed, network: 'regtest', account: -1 }))).toBe('ANCHOR_WALLET_INVALID');
    const w = AnchorWallet.fromSeed({ seed, network: 'regtest' });
    expect(code(() => w.rolesFor(-1))).toBe('ANCHOR_WALLET_INVALID');
    expect(code(() => w.address(2 ** 31))).toBe('ANCHOR_WALLET_INVALID');
  });
});
