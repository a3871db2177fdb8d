import { useEffect, useMemo, useState } from 'react';
import type { RouteOutput } from '../../../src/api/route.js';
import type { coreRoutes } from '../../../src/api/routes.js';
import { Chart, type ChartOption } from '../components/Chart';
import { Card, ErrorBox, Kpi, Short, Table } from '../components/ui';
import { api } from '../lib/api';
import { errorMessage } from '../lib/errors';
import { useLedgerEvents, useLive, type BlockEvent } from '../lib/live';
import type { PageDef } from './index';

type Envelope = RouteOutput<typeof coreRoutes.getBlock>;
interface Header { height: number; time: number; proposer: string }
interface BlockTx { body: { sender: string; nonce: number; msgs: Array<{ type: string; value: unknown }>; memo: string } }

/**
 * Blocks fetched when the page opens (full envelopes: a busy chain's blocks are large, so only a
 * few); newer ones arrive with the event stream.
 */
const HISTORY = 10;
/** Blocks kept for the table and the tx/s chart. */
const KEEP = 200;

function blockOf(e: Envelope): BlockEvent {
  const h = e.block.header as Header;
  return { height: h.height, hash: e.hash, time: h.time, txs: (e.block.txs as unknown[]).length, stateRoot: '', proposer: h.proposer };
}

/** Committed transactions per second, per block, from block times. */
function txRateOption(blocks: BlockEvent[]): ChartOption {
  const points = blocks.slice(1).map((b, i) => {
    const dt = Math.max(1, b.time - blocks[i]!.time) / 1000;
    return [b.time, Number((b.txs / dt).toFixed(2))];
  });
  return {
    grid: { left: 40, right: 10, top: 20, bottom: 30 },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { hideOverlap: true } },
    yAxis: { type: 'value', name: 'tx/s' },
    series: [{ type: 'line', data: points, showSymbol: false, areaStyle: { opacity: 0.15 } }],
  };
}

function Status() {
  const s = useLive(() => api.core.status({}), []);
  const v = s.data;
  return (
    <Card title="Node" testId="explorer-status">
      <ErrorBox error={s.error} />
      {v && (
        <div className="kpis">
          <Kpi label="chain" value={v.chainId} />
          <Kpi label="height" value={v.height} testId="status-height" />
          <Kpi label="consensus" value={v.consensus ? `h${v.consensus.height} r${v.consensus.round} ${v.consensus.step}` : '—'} />
          <Kpi label="peers" value={v.peers.length} />
          <Kpi label="mempool" value={`${v.mempool.txs} txs`} />
        </div>
      )}
    </Card>
  );
}

function Detail({ query }: { query: string }) {
  const [found, setFound] = useState<{ kind: string; value: unknown } | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setFound(null);
    setError(null);
    const q = query.trim();
    if (!q) return;
    const look = async () => {
      if (/^[0-9a-f]{64}$/.test(q)) {
        const tx = await api.core.getTx({ params: { hash: q }, query: { wait: 0 } });
        const block = tx.height ? await api.core.getBlock({ params: { height: tx.height } }) : null;
        const body = block ? (block.block.txs as BlockTx[])[tx.index!]?.body : undefined;
        return { kind: 'tx', value: { ...tx, body } };
      }
      if (/^\d+$/.test(q)) return { kind: 'block', value: await api.core.getBlock({ params: { height: Number(q) } }) };
      if (q.startsWith('grid1')) {
        const [account, nonce] = await Promise.all([api.registry.getAccount({ params: { address: q } }), api.core.accountNonce({ params: { address: q } })]);
        return { kind: 'account', value: { ...account, next: nonce.next } };
      }
      throw new Error('search by transaction hash (64 hex digits), block height or grid1… address');
    };
    look().then(setFound, (err: unknown) => setError(errorMessage(err)));
  }, [query]);
  if (!query) return null;
  return (
    <Card title={`Result: ${found?.kind ?? '…'}`} testId="explorer-result">
      <ErrorBox error={error} />
      {found?.kind === 'tx' && <TxView tx={found.value as TxView} />}
      {found && found.kind !== 'tx' && <pre data-testid="explorer-json">{JSON.stringify(found.value, null, 2).slice(0, 6000)}</pre>}
    </Card>
  );
}

interface TxView {
  hash: string;
  status: string;
  height?: number;
  result?: { code: string; message: string; events: Array<{ type: string; attributes: Record<string, string> }> };
  body?: BlockTx['body'];
}

function TxView({ tx }: { tx: TxView }) {
  return (
    <div data-testid="explorer-tx">
      <p>
        <code>{tx.hash}</code> — {tx.status}
        {tx.height !== undefined && <> at height {tx.height}</>}: <strong data-testid="explorer-tx-code">{tx.result?.code ?? 'pending'}</strong> {tx.result?.message}
      </p>
      {tx.body && (
        <p>
          sender <Short value={tx.body.sender} />, nonce {tx.body.nonce}, messages: {tx.body.msgs.map((m) => m.type).join(', ')}
        </p>
      )}
      <Table
        rows={tx.result?.events ?? []}
        empty="no events"
        columns={[
          ['event', (e) => e.type],
          ['attributes', (e) => Object.entries(e.attributes).map(([k, v]) => `${k}=${v}`).join('  ')],
        ]}
      />
    </div>
  );
}

function Explorer() {
  const [blocks, setBlocks] = useState<BlockEvent[]>([]);
  const [search, setSearch] = useState('');
  const [query, setQuery] = useState('');
  useEffect(() => {
    void (async () => {
      const status = await api.core.status({});
      const heights = Array.from({ length: Math.min(HISTORY, status.height) }, (_, i) => status.height - i).reverse();
      const loaded = await Promise.all(heights.map((h) => api.core.getBlock({ params: { height: h } }).then(blockOf)));
      setBlocks((live) => [...loaded.filter((b) => !live.some((l) => l.height === b.height)), ...live].sort((a, b) => a.height - b.height).slice(-KEEP));
    })();
  }, []);
  useLedgerEvents({ block: (b) => setBlocks((old) => [...old.filter((o) => o.height !== b.height), b].slice(-KEEP)) });
  const rate = useMemo(() => txRateOption(blocks), [blocks]);
  const validators = useLive(() => api.registry.listValidators({}), []);
  const accounts = useLive(() => api.registry.listAccounts({ query: {} }), []);
  const latest = [...blocks].reverse().slice(0, 12);
  return (
    <>
      <Card title="Search" testId="explorer-search">
        <form className="inline" onSubmit={(e) => (e.preventDefault(), setQuery(search))}>
          <input style={{ flex: 1, minWidth: '20rem' }} placeholder="transaction hash, block height or grid1… address" value={search} onChange={(e) => setSearch(e.target.value)} data-testid="explorer-search-input" />
          <button data-testid="explorer-search-go">Find</button>
        </form>
      </Card>
      <Detail query={query} />
      <Status />
      <Card title="Committed transactions per second" testId="explorer-txrate">
        <Chart option={rate} height={220} />
      </Card>
      <Card title="Latest blocks" testId="explorer-blocks">
        <Table
          rows={latest}
          rowKey={(b) => String(b.height)}
          columns={[
            ['height', (b) => <a href="#/explorer" onClick={() => (setSearch(String(b.height)), setQuery(String(b.height)))}>{b.height}</a>],
            ['time', (b) => new Date(b.time).toISOString().slice(11, 19)],
            ['txs', (b) => b.txs],
            ['hash', (b) => <Short value={b.hash} />],
            ['proposer', (b) => <Short value={b.proposer} />],
          ]}
        />
      </Card>
      <Card title="Validators" testId="explorer-validators">
        <ErrorBox error={validators.error} />
        <Table rows={validators.data?.validators ?? []} columns={[['address', (v) => <Short value={v.address} />], ['name', (v) => v.name ?? ''], ['power', (v) => v.power]]} />
      </Card>
      <Card title="Accounts" testId="explorer-accounts">
        <ErrorBox error={accounts.error} />
        <Table
          rows={accounts.data?.accounts ?? []}
          columns={[
            ['address', (a) => <a href="#/explorer" onClick={() => (setSearch(a.address), setQuery(a.address))}><Short value={a.address} /></a>],
            ['roles', (a) => a.roles.join(', ')],
            ['status', (a) => a.status],
            ['since', (a) => a.admittedAt.height],
          ]}
        />
      </Card>
    </>
  );
}

export const explorerPage: PageDef = { id: 'explorer', title: 'Explorer', component: Explorer };
