import { useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import { MSG as ANCHOR_MSG } from '../../../src/modules/anchor/messages.js';
import type { anchorRoutes } from '../../../src/modules/anchor/routes.js';
import { Badge, Card, ErrorBox, Kpi, Short, Table, TxOutcome, useTx } from '../components/ui';
import { api } from '../lib/api';
import { errorMessage } from '../lib/errors';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

type Entry = RouteOutput<typeof anchorRoutes.listCheckpoints>['checkpoints'][number] & { report?: Report | { error: string } };
type Report = RouteOutput<typeof anchorRoutes.verification>;

const utc = (ms: number) => `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;

/** The verification verdict of an anchored checkpoint: every check the node ran, or the one that failed. */
function verdictOf(r: Report | { error: string } | undefined): { text: string; ok: boolean | null } {
  if (!r) return { text: '…', ok: null };
  if ('error' in r) return { text: r.error, ok: false };
  if (r.ok) return { text: `verified (${r.checks.length} checks)`, ok: true };
  if (r.failure) return { text: `${r.failure.code}: ${r.failure.message}`, ok: false };
  const open = r.checks.filter((c) => !c.ok).map((c) => c.name);
  return { text: `not verified: ${open.join(', ')}`, ok: false };
}

/**
 * Checkpoints with their anchor status and, for the anchored ones, the node's verification report
 * (digest, transaction, OP_RETURN, Merkle branch, proof of work) fetched alongside.
 */
async function checkpointsWithReports() {
  const { checkpoints } = await api.anchor.listCheckpoints({ query: { order: 'desc', limit: 50 } });
  const reports = await Promise.all(
    checkpoints.map((c) =>
      c.status === 'pending' ? Promise.resolve(undefined) : api.anchor.verification({ params: { height: c.height } }).then((r): Report | { error: string } => r, (err: unknown) => ({ error: errorMessage(err) })),
    ),
  );
  return checkpoints.map((c, i) => ({ ...c, report: reports[i] }));
}

function Status() {
  const data = useLive(() => api.anchor.anchorStatus({}), []);
  const d = data.data;
  return (
    <Card title="Anchoring to Bitcoin" testId="anchor-status">
      <ErrorBox error={data.error} />
      {d && (
        <div className="kpis">
          <Kpi label="network" value={d.params.network} testId="anchor-network" />
          <Kpi label="checkpoint every" value={`${d.params.checkpointInterval} blocks`} />
          <Kpi label="ledger height" value={d.height} />
          <Kpi label="next checkpoint" value={d.nextCheckpointHeight} />
          <Kpi label="anchors recorded" value={d.anchors} testId="anchor-count" />
          <Kpi label="fingerprints collected" value={d.itemsCollected} />
          <Kpi label="awaiting a checkpoint" value={d.pendingItems} />
        </div>
      )}
      {d?.latest && <p className="muted">Latest checkpoint at height {d.latest.height}: digest <Short value={d.latest.digest} />, {d.latest.status}.</p>}
    </Card>
  );
}

function CheckpointDetail({ height }: { height: number }) {
  const data = useLive(async () => {
    const [c, items] = await Promise.all([api.anchor.getCheckpoint({ params: { height } }), api.anchor.checkpointItems({ params: { height }, query: { limit: 50 } })]);
    const report = c.status === 'pending' ? null : await api.anchor.verification({ params: { height } });
    return { ...c, items, report };
  }, [height]);
  const d = data.data;
  return (
    <Card title={`Checkpoint ${height}`} testId="anchor-detail" wide>
      <ErrorBox error={data.error} />
      {d && (
        <>
          <p>
            block <Short value={d.checkpoint.blockHash} />, state root <Short value={d.checkpoint.stateRoot} />, interval root <Short value={d.checkpoint.intervalRoot} />, digest <Short value={d.checkpoint.digest} />
          </p>
          {d.anchor ? (
            <p data-testid="anchor-detail-tx">
              Bitcoin transaction <Short value={d.anchor.txid} /> (output {d.anchor.outputIndex}), recorded by <Short value={d.anchor.recordedBy} /> at height {d.anchor.recordedAt.height}
              {d.anchor.confirmation ? <>; in Bitcoin block {d.anchor.confirmation.blockHeight} <Short value={d.anchor.confirmation.blockHash} /> of {utc(d.anchor.confirmation.blockTime * 1000)}</> : '; not yet confirmed in a block'}
            </p>
          ) : (
            <p className="muted">No Bitcoin transaction recorded yet.</p>
          )}
          {d.report && (
            <Table
              rows={d.report.checks}
              testId="anchor-checks"
              columns={[['check', (c) => c.name], ['result', (c) => <Badge value={c.ok ? 'ok' : 'failed'} good={['ok']} bad={['failed']} />], ['detail', (c) => c.detail]]}
            />
          )}
          <h2>Items: {d.items.itemCount} meter interval fingerprints</h2>
          <Table rows={d.items.items} testId="anchor-items" empty="no fingerprints in this interval" columns={[['meter', (i) => i.meterId], ['slot', (i) => i.slot], ['height', (i) => i.height], ['fingerprint', (i) => <Short value={i.item} />]]} />
        </>
      )}
    </Card>
  );
}

/**
 * The anchor operator's two steps, signed in the page: record the Bitcoin transaction that carries a
 * checkpoint (once broadcast), then the block that includes it (80-byte header, height, Merkle branch
 * of the txid as `gridledger anchor` and Electrum's blockchain.transaction.get_merkle give it).
 */
function OperatorForms({ pending, recorded }: { pending: number[]; recorded: number[] }) {
  const tx = useTx();
  const [height, setHeight] = useState('');
  const [txid, setTxid] = useState('');
  const [rawTx, setRawTx] = useState('');
  const [confirmHeight, setConfirmHeight] = useState('');
  const [header, setHeader] = useState('');
  const [blockHeight, setBlockHeight] = useState('');
  const [branch, setBranch] = useState('');
  const record = () => tx.run(() => submit([{ type: ANCHOR_MSG.record, value: { height: Number(height || pending[0]), txid: txid.trim().toLowerCase(), rawTx: rawTx.trim().toLowerCase() } }]));
  const confirm = () =>
    tx.run(async () => {
      let parsed: unknown;
      try {
        parsed = JSON.parse(branch);
      } catch {
        throw new Error('the Merkle branch is JSON: {"index": …, "txCount": …, "siblings": ["…"]}');
      }
      return submit([{ type: ANCHOR_MSG.confirm, value: { height: Number(confirmHeight || recorded[0]), blockHeader: header.trim().toLowerCase(), blockHeight: Number(blockHeight), branch: parsed } }]);
    });
  return (
    <Card title="Record an anchor (anchor operators)" testId="anchor-record" wide>
      <form onSubmit={(e) => (e.preventDefault(), void record())}>
        <h2>1. The transaction, once broadcast</h2>
        <div className="row">
          checkpoint <input value={height} onChange={(e) => setHeight(e.target.value)} placeholder={String(pending[0] ?? '')} size={8} aria-label="checkpoint height" data-testid="anchor-record-height" />
          txid <input value={txid} onChange={(e) => setTxid(e.target.value)} size={66} aria-label="txid" data-testid="anchor-record-txid" />
        </div>
        <textarea rows={3} value={rawTx} onChange={(e) => setRawTx(e.target.value)} placeholder="raw transaction (hex), as broadcast" data-testid="anchor-record-raw" />
        <button disabled={tx.busy} data-testid="anchor-record-submit">Sign &amp; record</button>
      </form>
      <form onSubmit={(e) => (e.preventDefault(), void confirm())}>
        <h2>2. The block that includes it</h2>
        <div className="row">
          checkpoint <input value={confirmHeight} onChange={(e) => setConfirmHeight(e.target.value)} placeholder={String(recorded[0] ?? '')} size={8} aria-label="confirmed checkpoint height" data-testid="anchor-confirm-height" />
          Bitcoin block height <input value={blockHeight} onChange={(e) => setBlockHeight(e.target.value)} size={9} aria-label="Bitcoin block height" data-testid="anchor-confirm-block-height" />
        </div>
        <textarea rows={2} value={header} onChange={(e) => setHeader(e.target.value)} placeholder="block header (80 bytes, hex)" data-testid="anchor-confirm-header" />
        <textarea rows={2} value={branch} onChange={(e) => setBranch(e.target.value)} placeholder='Merkle branch: {"index": 2, "txCount": 7, "siblings": ["…"]}' data-testid="anchor-confirm-branch" />
        <button disabled={tx.busy} data-testid="anchor-confirm-submit">Sign &amp; confirm</button>
      </form>
      <TxOutcome outcome={tx.outcome} />
    </Card>
  );
}

function AnchorPage() {
  const s = useSession();
  const data = useLive(checkpointsWithReports, []);
  const [picked, setPicked] = useState<number | null>(null);
  const rows = data.data ?? [];
  const shown = picked ?? rows.find((c) => c.status === 'confirmed')?.height ?? rows[0]?.height;
  const pending = rows.filter((c) => c.status === 'pending').map((c) => c.height);
  const recorded = rows.filter((c) => c.status === 'recorded').map((c) => c.height);
  return (
    <>
      <Status />
      <Card title="Checkpoints and their anchors" testId="anchor-checkpoints" wide>
        <ErrorBox error={data.error} />
        <Table
          rows={rows}
          testId="anchor-checkpoint-rows"
          empty="no checkpoint taken yet"
          rowKey={(c: Entry) => String(c.height)}
          columns={[
            ['height', (c) => <button className="link" onClick={() => setPicked(c.height)} data-testid={`anchor-pick-${c.height}`}>{c.height}</button>],
            ['items', (c) => c.itemCount],
            ['digest', (c) => <Short value={c.digest} />],
            ['status', (c) => <Badge value={c.status} good={['confirmed']} testId={`anchor-status-${c.height}`} />],
            ['Bitcoin tx', (c) => <Short value={c.txid} />],
            ['block', (c) => (c.bitcoinBlock ? `${c.bitcoinBlock.height}` : '')],
            ['verification', (c) => {
              const v = verdictOf(c.report);
              return c.status === 'pending' ? <span className="muted">not anchored</span> : <span className={v.ok ? 'ok' : 'error'} data-testid={`anchor-verdict-${c.height}`}>{v.text}</span>;
            }],
          ]}
        />
      </Card>
      {shown !== undefined && <CheckpointDetail key={shown} height={shown} />}
      {s.roles.includes('anchor-operator') && <OperatorForms pending={pending} recorded={recorded} />}
    </>
  );
}

export const anchorPage: PageDef = { id: 'anchor', title: 'Anchoring', component: AnchorPage };
