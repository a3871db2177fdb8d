/**
 * Solar position after the NOAA Solar Calculator spreadsheet (NOAA Global Monitoring Laboratory,
 * "NOAA_Solar_Calculations_day.xls"; equations from J. Meeus, Astronomical Algorithms). Each step
 * is one column of that spreadsheet, so a row of it can be checked value by value. Stated accuracy
 * of the method: about 0.01° for years 1800–2100 away from the poles; the refraction correction is
 * NOAA's approximation. Floats are fine here: this is off-ledger simulation.
 *
 * Conventions: latitude + north, longitude + east, azimuth clockwise from north (90 = east,
 * 180 = south), time as a UTC instant in ms since the Unix epoch (no ΔT correction, as in NOAA).
 */

const RAD = Math.PI / 180;
const DEG = 180 / Math.PI;
/** Julian day of the Unix epoch 1970-01-01T00:00Z. */
const UNIX_EPOCH_JD = 2440587.5;
const MS_PER_DAY = 86_400_000;

export interface SolarPosition {
  julianDay: number;
  julianCentury: number;
  /** Sun declination (°). */
  declinationDeg: number;
  /** Equation of time (minutes): apparent minus mean solar time. */
  equationOfTimeMin: number;
  /** True solar time (minutes past true solar midnight). */
  trueSolarTimeMin: number;
  /** Hour angle (°), negative in the morning. */
  hourAngleDeg: number;
  /** Geometric zenith angle (°), without refraction. */
  zenithDeg: number;
  /** Geometric elevation (°) = 90 − zenith. */
  elevationDeg: number;
  /** NOAA's approximate atmospheric refraction (°). */
  refractionDeg: number;
  /** Elevation corrected for refraction (°): where the sun appears. */
  apparentElevationDeg: number;
  /** 90 − apparent elevation (°). */
  apparentZenithDeg: number;
  /** Azimuth (°) clockwise from north. */
  azimuthDeg: number;
}

/** Excel's MOD: the result has the sign of the divisor. */
function mod(a: number, b: number): number {
  return a - b * Math.floor(a / b);
}

function clampUnit(x: number): number {
  return x > 1 ? 1 : x < -1 ? -1 : x;
}

export function julianDayOfMs(unixMs: number): number {
  return unixMs / MS_PER_DAY + UNIX_EPOCH_JD;
}

/** Sun declination and equation of time: the parts of the algorithm that depend only on the instant. */
export function sunEphemeris(julianCentury: number): { declinationDeg: number; equationOfTimeMin: number } {
  const t = julianCentury;
  const meanLongitude = mod(280.46646 + t * (36000.76983 + t * 0.0003032), 360);
  const meanAnomaly = 357.52911 + t * (35999.05029 - 0.0001537 * t);
  const eccentricity = 0.016708634 - t * (0.000042037 + 0.0000001267 * t);
  const equationOfCenter =
    Math.sin(meanAnomaly * RAD) * (1.914602 - t * (0.004817 + 0.000014 * t)) +
    Math.sin(2 * meanAnomaly * RAD) * (0.019993 - 0.000101 * t) +
    Math.sin(3 * meanAnomaly * RAD) * 0.000289;
  const trueLongitude = meanLongitude + equationOfCenter;
  const omega = (125.04 - 1934.136 * t) * RAD;
  const apparentLongitude = trueLongitude - 0.00569 - 0.00478 * Math.sin(omega);
  const meanObliquity = 23 + (26 + (21.448 - t * (46.815 + t * (0.00059 - t * 0.001813))) / 60) / 60;
  const obliquity = meanObliquity + 0.00256 * Math.cos(omega);
  const declinationDeg = Math.asin(Math.sin(obliquity * RAD) * Math.sin(apparentLongitude * RAD)) * DEG;
  const y = Math.tan((obliquity / 2) * RAD) ** 2;
  const l0 = meanLongitude * RAD;
  const m = meanAnomaly * RAD;
  const e = eccentricity;
  const equationOfTimeMin =
    4 *
    DEG *
    (y * Math.sin(2 * l0) -
      2 * e * Math.sin(m) +
      4 * e * y * Math.sin(m) * Math.cos(2 * l0) -
      0.5 * y * y * Math.sin(4 * l0) -
      1.25 * e * e * Math.sin(2 * m));
  return { declinationDeg, equationOfTimeMin };
}

/** NOAA's approximate refraction (°) for a geometric elevation (°). */
export function atmosphericRefractionDeg(elevationDeg: number): number {
  const h = elevationDeg;
  let arcsec: number;
  if (h > 85) arcsec = 0;
  else if (h > 5) {
    const tn = Math.tan(h * RAD);
    arcsec = 58.1 / tn - 0.07 / tn ** 3 + 0.000086 / tn ** 5;
  } else if (h > -0.575) arcsec = 1735 + h * (-518.2 + h * (103.4 + h * (-12.79 + h * 0.711)));
  else arcsec = -20.772 / Math.tan(h * RAD);
  return arcsec / 3600;
}

/** Position of the sun seen from (latitude, longitude) at a UTC instant. */
export function solarPosition(latitudeDeg: number, longitudeDeg: number, unixMs: number): SolarPosition {
  const julianDay = julianDayOfMs(unixMs);
  const julianCentury = (julianDay - 2451545) / 36525;
  const { declinationDeg, equationOfTimeMin } = sunEphemeris(julianCentury);
  const utcMinutes = mod(unixMs, MS_PER_DAY) / 60_000;
  const trueSolarTimeMin = mod(utcMinutes + equationOfTimeMin + 4 * longitudeDeg, 1440);
  const hourAngleDeg = trueSolarTimeMin / 4 < 0 ? trueSolarTimeMin / 4 + 180 : trueSolarTimeMin / 4 - 180;
  const lat = latitudeDeg * RAD;
  const dec = declinationDeg * RAD;
  const cosZenith = clampUnit(Math.sin(lat) * Math.sin(dec) + Math.cos(lat) * Math.cos(dec) * Math.cos(hourAngleDeg * RAD));
  const zenithDeg = Math.acos(cosZenith) * DEG;
  const elevationDeg = 90 - zenithDeg;
  const refractionDeg = atmosphericRefractionDeg(elevationDeg);
  const apparentElevationDeg = elevationDeg + refractionDeg;
  const azimuthDeg = solarAzimuthDeg(lat, dec, zenithDeg * RAD, hourAngleDeg);
  return {
    julianDay,
    julianCentury,
    declinationDeg,
    equationOfTimeMin,
    trueSolarTimeMin,
    hourAngleDeg,
    zenithDeg,
    elevationDeg,
    refractionDeg,
    apparentElevationDeg,
    apparentZenithDeg: 90 - apparentElevationDeg,
    azimuthDeg,
  };
}

function solarAzimuthDeg(lat: number, dec: number, zenith: number, hourAngleDeg: number): number {
  const denominator = Math.cos(lat) * Math.sin(zenith);
  // Sun at the zenith or observer at a pole: azimuth undefined; NOAA's formula divides by zero there.
  if (Math.abs(denominator) < 1e-12) return hourAngleDeg > 0 ? 180 : 0;
  const a = Math.acos(clampUnit((Math.sin(lat) * Math.cos(zenith) - Math.sin(dec)) / denominator)) * DEG;
  return hourAngleDeg > 0 ? mod(a + 180, 360) : mod(540 - a, 360);
}
