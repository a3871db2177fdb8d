// Types of bin/dist.mjs (plain JavaScript, so it runs before anything is compiled).
export declare const STAMP: string;
export interface DistStatus {
  fresh: boolean;
  reason?: string;
}
export declare function listFiles(dir: string): string[];
export declare function snapshot(src: string): { version: 1; builder: string; files: Record<string, { size: number; mtimeMs: number; sha256: string }> };
export declare function distStatus(src: string, dist: string): DistStatus;
