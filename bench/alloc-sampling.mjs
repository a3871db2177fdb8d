// Allocation sampling for a node under load (BENCHMARKS.md, "Profiles"). Preload it into the bench's
// nodes: GRIDLEDGER_BENCH_NODE_ARGS="--import $PWD/bench/alloc-sampling.mjs" (an absolute path). The first SIGUSR2 a node
// receives starts V8's sampling heap profiler, counting objects the garbage collector has already
// freed as well (what a phase allocates, not only what it keeps); the next writes the profile to
// $GRIDLEDGER_ALLOC_PROFILE_DIR (default: the temp folder) as alloc-PID-N.heapprofile and stops.
// `--heap-prof` alone samples only objects alive at exit. Summarise: npm run bench:profile -- FILE.
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = process.env.GRIDLEDGER_ALLOC_PROFILE_DIR ?? tmpdir();
const session = new Session();
session.connect();
let sampling = false;
let written = 0;
process.on('SIGUSR2', () => {
  if (!sampling) {
    sampling = true;
    session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }, (error) => {
      console.error(error ? `alloc-sampling: ${error.message}` : `alloc-sampling: sampling pid ${process.pid}`);
    });
    return;
  }
  sampling = false;
  session.post('HeapProfiler.stopSampling', (error, result) => {
    if (error) return console.error(`alloc-sampling: ${error.message}`);
    const file = join(dir, `alloc-${process.pid}-${written++}.heapprofile`);
    writeFileSync(file, JSON.stringify(result.profile));
    console.error(`alloc-sampling: wrote ${file}`);
  });
});
