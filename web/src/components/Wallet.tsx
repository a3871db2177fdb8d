import { useState } from 'react';
import { errorMessage } from '../lib/errors';
import { useSession } from '../lib/session';
import { forgetKey, generateSeed, lock, parseSeed, storedKeys, storeKey, unlock } from '../lib/wallet';
import { Short } from './ui';

/** Top-right account panel: unlock a key kept (encrypted) in this browser, or create / import one. */
export function Wallet() {
  const s = useSession();
  const [keys, setKeys] = useState(storedKeys);
  const [name, setName] = useState(keys[0]?.name ?? '');
  const [pass, setPass] = useState('');
  const [mode, setMode] = useState<'unlock' | 'new'>(keys.length > 0 ? 'unlock' : 'new');
  const [seedHex, setSeedHex] = useState('');
  const [newName, setNewName] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (s.address) {
    return (
      <div className="wallet" data-testid="wallet">
        <span data-testid="wallet-address" title={s.address}>
          {s.name}: <Short value={s.address} />
        </span>
        <span className="muted" data-testid="wallet-roles">{s.token ? s.roles.join(', ') || 'no roles' : 'not admitted: public data only'}</span>
        <button onClick={lock}>Lock</button>
      </div>
    );
  }
  return (
    <div className="wallet" data-testid="wallet">
      {mode === 'unlock' ? (
        <form onSubmit={(e) => (e.preventDefault(), void act(() => unlock(name, pass)))}>
          <select value={name} onChange={(e) => setName(e.target.value)} aria-label="key">
            {keys.map((k) => <option key={k.name} value={k.name}>{k.name}</option>)}
          </select>
          <input type="password" placeholder="passphrase" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="unlock-passphrase" />
          <button disabled={busy} data-testid="unlock">Unlock</button>
          <button type="button" onClick={() => setMode('new')}>New / import</button>
          {name && <button type="button" title="remove this key from the browser" onClick={() => (forgetKey(name), setKeys(storedKeys()))}>Forget</button>}
        </form>
      ) : (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            void act(async () => {
              const seed = seedHex.trim() ? parseSeed(seedHex) : generateSeed();
              const stored = await storeKey(newName || 'key', seed, pass);
              setKeys(storedKeys());
              setName(stored.name);
              setSeedHex('');
              await unlock(stored.name, pass);
            });
          }}
        >
          <input placeholder="key name" value={newName} onChange={(e) => setNewName(e.target.value)} data-testid="key-name" />
          <input placeholder="seed hex (empty: generate)" value={seedHex} onChange={(e) => setSeedHex(e.target.value)} data-testid="key-seed" />
          <input type="password" placeholder="passphrase (8+)" value={pass} onChange={(e) => setPass(e.target.value)} data-testid="key-passphrase" />
          <button disabled={busy} data-testid="key-save">Save &amp; unlock</button>
          {keys.length > 0 && <button type="button" onClick={() => setMode('unlock')}>Back</button>}
        </form>
      )}
      {error && <p className="error" role="alert">{error}</p>}
    </div>
  );
}
