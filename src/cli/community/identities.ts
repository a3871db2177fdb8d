import { createHmac } from 'node:crypto';
import { addressFromPublicKey } from '../../crypto/address.js';
import { Signer } from '../../crypto/ed25519.js';
import type { Scenario } from '../../../sim/community/index.js';

/**
 * The accounts of a simulated community. Every member has a trader account (its balances) and a
 * meter account (signs its readings), as on a real ledger where meter keys live in the meter. The
 * keys are derived, not stored: HMAC-SHA256(secret, domain | community | member | role) is the
 * Ed25519 seed, where the secret is a 32-byte keyring secret of the simulating home. So a rerun (or
 * `--follow` after a restart) signs as the same accounts, and nobody without the home's keyring can.
 */
export interface SimAccount {
  address: string;
  signer: Signer;
}

export interface SimMember {
  id: string;
  kind: 'household' | 'plant';
  name: string;
  trader: SimAccount;
  meter: SimAccount;
  meterId: string;
  meterKind: 'producer' | 'consumer';
  labels: string[];
  maxPowerW: number;
  /** Registry roles of the trader account. */
  traderRoles: string[];
}

/** Label that PV energy carries on the ledger (set by producer meters, moved by transfers). */
export const SOLAR_LABEL = 'solar';
const KEY_DOMAIN = 'GRIDLEDGER/SIM/KEY/V1';

export function deriveAccount(secret: Uint8Array, community: string, member: string, role: 'trader' | 'meter'): SimAccount {
  const seed = createHmac('sha256', secret).update(`${KEY_DOMAIN}\0${community}\0${member}\0${role}`).digest();
  const signer = new Signer(new Uint8Array(seed));
  return { address: addressFromPublicKey(signer.publicKey), signer };
}

/** Peak PV power of an array with generous headroom (irradiance above 1 kW/m² happens at cloud edges). */
function pvPeakW(pv: { areaM2: number; efficiency: number } | undefined): number {
  return pv ? Math.ceil(pv.areaM2 * pv.efficiency * 1400) : 0;
}

/** What every member has, household or plant: a name and its derived trader and meter accounts. */
function identityOf(secret: Uint8Array, community: string, member: { id: string; name?: string }) {
  return {
    id: member.id,
    name: member.name ?? member.id,
    trader: deriveAccount(secret, community, member.id, 'trader'),
    meter: deriveAccount(secret, community, member.id, 'meter'),
    meterId: `${community}.${member.id}`,
  };
}

/** Members in scenario order (households, then shared plants) with their derived accounts and meter links. */
export function membersOf(scenario: Scenario, secret: Uint8Array): SimMember[] {
  const c = scenario.community.id;
  const households = scenario.households.map((h): SimMember => ({
    ...identityOf(secret, c, h),
    kind: 'household',
    // A household with PV can feed in, so its meter carries the solar label; without PV it only consumes.
    meterKind: h.pv ? 'producer' : 'consumer',
    labels: h.pv ? [SOLAR_LABEL] : [],
    // Import and export of one slot stay below this rating × 15 min: base load, the car charger and the PV peak.
    maxPowerW: 40_000 + (h.ev?.chargePowerW ?? 0) + pvPeakW(h.pv),
    traderRoles: h.pv ? ['prosumer', 'trader'] : ['consumer', 'trader'],
  }));
  const plants = scenario.sharedPlants.map((p): SimMember => ({
    ...identityOf(secret, c, p),
    kind: 'plant',
    meterKind: 'producer',
    labels: [SOLAR_LABEL],
    maxPowerW: 1_000 + pvPeakW(p.pv),
    traderRoles: ['prosumer', 'trader'],
  }));
  return [...households, ...plants];
}
