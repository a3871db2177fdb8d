import fc from 'fast-check';
import { EDGE_ERRORS } from '../../../src/edge/errors.js';
import { P1Framer } from '../../../src/edge/p1/framer.js';
import { parseTelegram } from '../../../src/edge/p1/parser.js';
import { CATALOGUE } from '../../../src/util/errors.js';
import { ISKRA, KAIFA } from '../../edge/helpers.js';
import { codeOf, expectThat, type FuzzTarget } from '../lib/engine.js';
import { applyByteEdits, byteEdit } from '../lib/mutate.js';

/**
 * The DSMR P1 parser and framer for the long runs of `npm run fuzz`. The short runs live with the
 * parser's and framer's own tests (test/edge/p1-parser.test.ts, p1-framer.test.ts), which fuzz
 * random bytes, single-byte changes and edited lines; this target reuses their real telegrams and
 * adds streams of several edited telegrams and garbage, split at random points, through the framer.
 */

const EDGE_CODES = new Set(EDGE_ERRORS[CATALOGUE].entries.map((e) => e.code));

interface P1Input {
  pieces: Uint8Array[];
  cuts: number[];
}

function checkTelegramValues(t: { importT1Wh: number; importT2Wh: number; exportT1Wh: number; exportT2Wh: number }): void {
  for (const v of [t.importT1Wh, t.importT2Wh, t.exportT1Wh, t.exportT2Wh]) expectThat(Number.isSafeInteger(v) && v >= 0, `register ${v} is not a non-negative safe integer`);
}

export function p1Target(): FuzzTarget<P1Input> {
  const telegram = fc.tuple(fc.constantFrom(ISKRA, KAIFA), fc.array(byteEdit, { maxLength: 3 })).map(([t, edits]) => applyByteEdits(t, edits));
  const piece = fc.oneof({ weight: 4, arbitrary: telegram }, { weight: 1, arbitrary: fc.uint8Array({ maxLength: 120 }) });
  return {
    name: 'p1',
    description: 'DSMR P1 telegrams (real ones, edited) and garbage through the framer and the parser',
    arbitrary: fc.record({ pieces: fc.array(piece, { minLength: 1, maxLength: 4 }), cuts: fc.array(fc.nat({ max: 8000 }), { maxLength: 8 }) }),
    check({ pieces, cuts }) {
      for (const p of pieces) {
        try {
          checkTelegramValues(parseTelegram(p).telegram);
        } catch (err) {
          codeOf(err, EDGE_CODES);
        }
      }
      const wire = Buffer.concat(pieces);
      const framer = new P1Framer();
      const positions = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
      let from = 0;
      let ok = 0;
      let refused = 0;
      for (const at of [...positions, wire.length]) {
        for (const framed of framer.push(wire.subarray(from, at))) {
          if (framed.ok) {
            checkTelegramValues(framed.telegram);
            ok++;
          } else {
            codeOf(framed.error, EDGE_CODES);
            refused++;
          }
        }
        from = at;
      }
      const c = framer.counters();
      expectThat(c.bytesIn === wire.length, 'the framer miscounted its input');
      return ok > 0 ? (refused > 0 ? 'ok+refused' : 'ok') : refused > 0 ? 'refused' : 'none';
    },
  };
}
