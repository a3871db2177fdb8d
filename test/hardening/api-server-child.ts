import { createInterface } from 'node:readline';
import { startLimitServer } from '../api/limits-helpers.js';

/**
 * A server with the test routes of test/api/limits-helpers.ts in its own process, so a test can
 * measure its memory: prints {"port"} once listening, then {"rss"} for every "rss" line on stdin.
 * argv[2]: JSON server options (limits).
 */
const server = await startLimitServer(JSON.parse(process.argv[2] ?? '{}'));
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'rss') {
    global.gc?.();
    process.stdout.write(`${JSON.stringify({ rss: process.memoryUsage().rss, calls: server.calls })}\n`);
  }
}
await server.close();
