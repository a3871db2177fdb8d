import { useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { createClient } from '../../../src/api/client.js';
import { edgeRoutes } from '../../../src/edge/agent/routes.js';
import { errorMessage } from '../lib/errors';
import { session } from '../lib/session';
import { Badge, Card, ErrorBox, Table } from './ui';

/**
 * Tampered intervals (issue 13 #4): the node holds only each slot's fingerprint, the samples stay in
 * the meter's edge agent, so the page asks the agent (its status API, `GET /v1/edge/meters/:id/verify`)
 * to recompute the fingerprints from its store and compare them with the ledger — the report of
 * `gridledger verify samples`. The page sends its node token along; the agent reads the fingerprints
 * with it, so the node's read policy decides who may verify (docs/edge.md). The agent must list the
 * dashboard's origin (`--dashboard-origin`, default the node's).
 */

type Report = RouteOutput<typeof edgeRoutes.edgeVerify>;

const AGENT_URL_KEY = 'gridledger.edgeAgentUrl';
/** The agent's default status address (src/edge/agent/config.ts). */
export const DEFAULT_AGENT_URL = 'http://127.0.0.1:26680';
const BROKEN = ['altered', 'inserted', 'deleted', 'reordered'];

function savedAgentUrl(): string {
  return window.localStorage.getItem(AGENT_URL_KEY) ?? DEFAULT_AGENT_URL;
}

export function EdgeVerify({ meters }: { meters: string[] }) {
  const [agentUrl, setAgentUrl] = useState(savedAgentUrl);
  const [picked, setPicked] = useState('');
  const [hours, setHours] = useState('24');
  const [report, setReport] = useState<Report | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const meter = picked || meters[0] || '';
  const check = async () => {
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      const url = new URL(agentUrl.trim()).origin;
      window.localStorage.setItem(AGENT_URL_KEY, url);
      const agent = createClient(url, edgeRoutes, { token: () => session.get().token ?? undefined });
      const toSlot = Math.floor(Date.now() / 900_000);
      const slots = Math.max(1, Math.min(96 * 31, Math.round(Number(hours) * 4) || 96));
      setReport(await agent.edgeVerify({ params: { meterId: meter }, query: { fromSlot: String(toSlot - slots), toSlot: String(toSlot) } }));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const broken = report?.slots.filter((s) => BROKEN.includes(s.status)) ?? [];
  return (
    <Card title="Tampered intervals (from the meter's edge agent)" testId="prosumer-edge-verify" wide>
      <form className="inline" onSubmit={(e) => (e.preventDefault(), void check())}>
        agent <input value={agentUrl} onChange={(e) => setAgentUrl(e.target.value)} size={28} aria-label="edge agent URL" data-testid="edge-agent-url" />
        meter <input value={meter} onChange={(e) => setPicked(e.target.value)} size={8} list="edge-meters" aria-label="meter" data-testid="edge-meter" />
        <datalist id="edge-meters">{meters.map((m) => <option key={m} value={m} />)}</datalist>
        last <input value={hours} onChange={(e) => setHours(e.target.value)} size={4} aria-label="hours" data-testid="edge-hours" /> h
        <button disabled={busy || !meter} data-testid="edge-verify">Verify samples</button>
      </form>
      <ErrorBox error={error} />
      {report && (
        <>
          <p className={report.ok ? 'ok' : 'error'} data-testid="edge-verdict">
            {report.ok ? 'INTACT' : 'TAMPERED'}: meter {report.meterId},{' '}
            {Object.entries(report.summary).filter(([, n]) => n > 0).map(([k, n]) => `${n} ${k}`).join(', ') || 'no samples and no fingerprints in range'}
          </p>
          {broken.length > 0 && (
            <Table
              rows={broken}
              testId="edge-flagged"
              rowKey={(s) => String(s.slot)}
              columns={[
                ['slot', (s) => <span data-testid={`edge-flag-${s.slot}`}>{s.slot}</span>],
                ['interval (UTC)', (s) => s.slotIso.slice(0, 16)],
                ['what happened', (s) => <Badge value={s.status} bad={BROKEN} />],
                ['first differing sample', (s) => (s.firstDifferingSeq !== undefined ? `seq ${s.firstDifferingSeq}` : '')],
                ['samples stored / on chain', (s) => `${s.storedCount} / ${s.onChainCount ?? '—'}`],
              ]}
            />
          )}
          <details>
            <summary>every slot</summary>
            <Table
              rows={report.slots}
              testId="edge-slots"
              rowKey={(s) => String(s.slot)}
              columns={[
                ['slot', (s) => s.slot],
                ['interval (UTC)', (s) => s.slotIso.slice(0, 16)],
                ['status', (s) => <Badge value={s.status} good={['intact']} bad={BROKEN} />],
                ['samples stored / on chain', (s) => `${s.storedCount} / ${s.onChainCount ?? '—'}`],
                ['first differing sample', (s) => (s.firstDifferingSeq !== undefined ? `seq ${s.firstDifferingSeq}` : '')],
              ]}
            />
          </details>
        </>
      )}
    </Card>
  );
}
