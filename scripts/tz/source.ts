import { fileURLToPath } from 'node:url';

/**
 * The pinned source of the node's time-zone table: Debian's `tzdata` package (zic-compiled TZif files
 * of one IANA release), vendored beside this file so the table can be rebuilt and checked offline.
 * Its SHA-256 is the one in Debian's signed package index (`apt-cache show tzdata=VERSION`).
 * To upgrade: docs/timezones.md.
 */
export const PINNED_DEB = {
  file: fileURLToPath(new URL('./source/tzdata_2026f-0+deb12u1_all.deb', import.meta.url)),
  debianVersion: '2026f-0+deb12u1',
  sha256: '3254eb870c8a949518214805aee5e4276af7699988ea8b9a3a583cd0f1eab31c',
} as const;
