// Types of bin/compiled-cli.mjs (plain JavaScript, so the launcher runs it before anything is compiled).
export declare const BUNDLE: string;
export declare function loadCompiledCli(file: string): {
  main: (args: string[]) => Promise<number>;
  cacheUsed: boolean;
  saveCodeCache(): void;
};
