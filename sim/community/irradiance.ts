/**
 * Irradiance on a horizontal plane and on a tilted panel (W/m²).
 *
 * - Clear sky: Haurwitz (1945, 1946) GHI = 1098·cos z·exp(−0.059 / cos z) with the apparent zenith z.
 *   It needs nothing but the sun's position, and among the models that need only the zenith it had
 *   the smallest average monthly error in Sandia's comparison (Reno, Hansen & Stein, SAND2012-2389).
 *   Ineichen–Perez would be more accurate but needs a Linke turbidity climatology we do not ship.
 * - Split into beam and diffuse: Erbs, Klein & Duffie (1982), diffuse fraction as a function of the
 *   clearness index kt = GHI / (I0·cos z); DNI = (GHI − DHI) / cos z. The same split serves cloudy
 *   skies (lower kt → more diffuse light).
 * - Plane of array: isotropic sky (Liu & Jordan) plus ground reflection with albedo ρ:
 *   POA = DNI·max(0, cos θ) + DHI·(1 + cos β)/2 + GHI·ρ·(1 − cos β)/2, θ the angle of incidence,
 *   β the tilt.
 * Limits as in pvlib: cos z is at least 0.065 when computing kt, DNI is 0 for z > 87°.
 */

const RAD = Math.PI / 180;

export const SOLAR_CONSTANT_W_M2 = 1367;
const MIN_COS_ZENITH = 0.065;
const MAX_DNI_ZENITH_DEG = 87;

export interface HorizontalIrradiance {
  ghi: number;
  dni: number;
  dhi: number;
}

export interface Surface {
  tiltDeg: number;
  /** Clockwise from north: 180 = facing south. */
  azimuthDeg: number;
}

/** Extraterrestrial normal irradiance for a day of the year (Duffie & Beckman eq. 1.4.1a). */
export function extraterrestrialNormal(dayOfYear: number): number {
  return SOLAR_CONSTANT_W_M2 * (1 + 0.033 * Math.cos((2 * Math.PI * dayOfYear) / 365));
}

/** Haurwitz clear-sky GHI for the apparent zenith angle (°); 0 with the sun below the horizon. */
export function haurwitzGhi(apparentZenithDeg: number): number {
  const cosZ = Math.cos(apparentZenithDeg * RAD);
  if (cosZ <= 0) return 0;
  return 1098 * cosZ * Math.exp(-0.059 / cosZ);
}

/** Erbs diffuse fraction DHI/GHI as a function of the clearness index. */
export function erbsDiffuseFraction(kt: number): number {
  if (kt <= 0.22) return 1 - 0.09 * kt;
  if (kt <= 0.8) return 0.9511 - 0.1604 * kt + 4.388 * kt ** 2 - 16.638 * kt ** 3 + 12.336 * kt ** 4;
  return 0.165;
}

/** Splits GHI into DNI and DHI (Erbs); `zenithDeg` is the geometric zenith. */
export function decompose(ghi: number, zenithDeg: number, dayOfYear: number): HorizontalIrradiance & { kt: number } {
  if (ghi <= 0) return { ghi: 0, dni: 0, dhi: 0, kt: 0 };
  const cosZ = Math.cos(zenithDeg * RAD);
  const kt = ghi / (extraterrestrialNormal(dayOfYear) * Math.max(cosZ, MIN_COS_ZENITH));
  let dhi = ghi * erbsDiffuseFraction(kt);
  let dni = zenithDeg > MAX_DNI_ZENITH_DEG || cosZ <= 0 ? 0 : (ghi - dhi) / cosZ;
  if (dni < 0) dni = 0;
  // Whatever is not beam is diffuse, so GHI = DNI·cos z + DHI holds exactly.
  dhi = ghi - dni * Math.max(cosZ, 0);
  return { ghi, dni, dhi, kt };
}

/** Cosine of the angle of incidence of the sun's rays on a surface. */
export function cosIncidence(sunZenithDeg: number, sunAzimuthDeg: number, surface: Surface): number {
  const z = sunZenithDeg * RAD;
  const b = surface.tiltDeg * RAD;
  return Math.cos(z) * Math.cos(b) + Math.sin(z) * Math.sin(b) * Math.cos((sunAzimuthDeg - surface.azimuthDeg) * RAD);
}

export interface PlaneOfArray {
  poa: number;
  beam: number;
  skyDiffuse: number;
  groundReflected: number;
}

/** Isotropic-sky plane-of-array irradiance (W/m²). */
export function planeOfArray(sky: HorizontalIrradiance, sunZenithDeg: number, sunAzimuthDeg: number, surface: Surface, albedo: number): PlaneOfArray {
  const cosTilt = Math.cos(surface.tiltDeg * RAD);
  const beam = sky.dni * Math.max(0, cosIncidence(sunZenithDeg, sunAzimuthDeg, surface));
  const skyDiffuse = (sky.dhi * (1 + cosTilt)) / 2;
  const groundReflected = (sky.ghi * albedo * (1 - cosTilt)) / 2;
  return { poa: beam + skyDiffuse + groundReflected, beam, skyDiffuse, groundReflected };
}
