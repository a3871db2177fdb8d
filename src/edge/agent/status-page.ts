/**
 * The agent's status page (GET / on the status server): one self-contained HTML document that polls
 * the JSON API every 2 s: per meter the live power and latest telegram, the day's per-minute import,
 * export (and production) drawn as SVG from the local store, sealed and delivered slots, spool depth,
 * refused input by reason. No external assets: the agent runs on a box without internet access.
 */
export const STATUS_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>GridLedger edge agent</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:0 0 .5em}h2{font-size:1.1em;margin:1.2em 0 .4em}
.card{background:#fff;border:1px solid #ddd;border-radius:6px;padding:1em;margin-bottom:1em}
.power{font-size:2em;font-weight:600}.imp{color:#c0392b}.exp{color:#27ae60}.muted{color:#777}
table{border-collapse:collapse}td,th{padding:2px 10px 2px 0;text-align:left;vertical-align:top}
pre{background:#f3f3f3;padding:.5em;max-height:14em;overflow:auto;font-size:12px}
.bad{color:#c0392b;font-weight:600}svg{background:#fff;border:1px solid #eee}
</style></head><body>
<h1>GridLedger edge agent</h1><div id="agent" class="muted">loading…</div>
<div id="meters"></div>
<div class="card"><h2>Spool and delivery</h2><div id="spool"></div></div>
<div class="card"><h2>Refused input (by reason)</h2><div id="refusals"></div></div>
<div class="card"><h2>Sources</h2><div id="sources"></div></div>
<script>
const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({'&':'&amp;','<':'&lt;','>':'&gt;','"':'&quot;'}[c]));
const kv = (o) => '<table>' + Object.entries(o).map(([k, v]) => '<tr><td>' + esc(k) + '</td><td>' + esc(typeof v === 'object' ? JSON.stringify(v) : v) + '</td></tr>').join('') + '</table>';
function chart(minutes, production) {
  const w = 720, h = 160, n = minutes.length || 1;
  const max = Math.max(1, ...minutes.map((m) => Math.max(m.importWh, m.exportWh)));
  const line = (key) => minutes.map((m, i) => (i ? 'L' : 'M') + (i * w / n).toFixed(1) + ' ' + (h - m[key] / max * (h - 10)).toFixed(1)).join(' ');
  const gaps = minutes.map((m, i) => m.samples ? '' : '<rect x="' + (i * w / n).toFixed(1) + '" y="0" width="' + (w / n + 0.5).toFixed(1) + '" height="' + h + '" fill="#eee"/>').join('');
  return '<svg width="' + w + '" height="' + h + '" viewBox="0 0 ' + w + ' ' + h + '">' + gaps +
    '<path d="' + line('importWh') + '" fill="none" stroke="#c0392b"/><path d="' + line('exportWh') + '" fill="none" stroke="#27ae60"/></svg>' +
    '<div class="muted">Wh per minute (max ' + max + ' Wh): <span class="imp">import</span>, <span class="exp">' + (production ? 'production (export)' : 'export') + '</span>; grey = minutes without samples</div>';
}
async function refresh() {
  try {
    const s = await (await fetch('v1/edge/status')).json();
    $('agent').textContent = 'version ' + s.agent.version + ' · node ' + s.agent.node + ' · store ' + s.agent.db + ' · up ' + Math.round((s.agent.nowMs - s.agent.startedAtMs) / 1000) + ' s';
    let html = '';
    for (const m of s.meters) {
      const l = m.latest;
      html += '<div class="card"><h2>Meter ' + esc(m.meterId) + (m.ready ? '' : ' <span class="bad">not ready: ' + esc(m.problem ? m.problem.code + ' ' + m.problem.message : 'bootstrapping') + '</span>') + '</h2>';
      html += l ? '<div class="power"><span class="imp">' + l.importPowerW + ' W</span> / <span class="exp">' + l.exportPowerW + ' W</span></div><div class="muted">live import / export power, meter time ' + new Date(l.timestampMs).toISOString() + ' via ' + esc(l.source) + '</div>' : '<div class="muted">no sample yet</div>';
      html += kv({ samples: m.samples, 'sealed through slot': m.sealedThrough ?? '-', 'last delivered slot': m.lastDelivered ? m.lastDelivered.slot + ' ' + m.lastDelivered.slotIso + ' (' + m.lastDelivered.outcome + ')' : '-', 'readings delivered': m.delivered, 'last interval': m.lastInterval ? m.lastInterval.slotIso + ': import ' + m.lastInterval.importWh + ' Wh, export ' + m.lastInterval.exportWh + ' Wh, ' + m.lastInterval.sampleCount + ' samples' + (m.lastInterval.complete ? '' : ', GAPS') : '-' });
      html += '<div id="chart-' + esc(m.meterId) + '"></div>';
      if (l && l.telegram) html += '<details><summary>latest telegram</summary><pre>' + esc(l.telegram) + '</pre></details>';
      html += '</div>';
    }
    $('meters').innerHTML = html;
    for (const m of s.meters) {
      const d = await (await fetch('v1/edge/meters/' + encodeURIComponent(m.meterId) + '/minutes')).json();
      const el = $('chart-' + m.meterId);
      if (el && d.minutes) el.innerHTML = '<div class="muted">' + esc(d.day) + ' (' + esc(d.timezone) + '): import ' + d.totals.importWh + ' Wh, export ' + d.totals.exportWh + ' Wh</div>' + chart(d.minutes, d.production);
    }
    $('spool').innerHTML = kv(s.spool) + kv(s.submission) + (s.parked.length ? '<div class="bad">parked readings (refused by the ledger):</div>' + kv(Object.fromEntries(s.parked.map((p) => [p.meterId + ' slot ' + p.slot, p.reason]))) : '');
    $('refusals').innerHTML = Object.keys(s.refusals).length ? kv(s.refusals) : '<span class="muted">none</span>';
    $('sources').innerHTML = s.sources.map((x) => '<b>' + esc(x.name) + '</b> ' + (x.connected ? 'connected' : x.ended ? 'ended' : '<span class="bad">disconnected</span>') + (x.lastError ? ' <span class="muted">' + esc(x.lastError) + '</span>' : '') + kv(x.counters)).join('');
  } catch (e) { $('agent').textContent = 'agent not reachable: ' + e; }
}
refresh(); setInterval(refresh, 2000);
</script></body></html>`;
