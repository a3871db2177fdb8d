import { useState } from 'react';
import { MSG as REGISTRY_MSG } from '../../../src/modules/registry/messages.js';
import { Card, ErrorBox, Short, SignedIn, Table, TxOutcome, useTx } from '../components/ui';
import { api } from '../lib/api';
import { useLive } from '../lib/live';
import { useSession } from '../lib/session';
import { submit } from '../lib/wallet';
import type { PageDef } from './index';

function Operator() {
  const s = useSession();
  const log = useLive(() => api.registry.registryLog({ query: { limit: 50 } }), []);
  const proposals = useLive(() => api.registry.listProposals({}), []);
  const validators = useLive(() => api.registry.listValidators({}), []);
  const evidence = useLive(() => api.core.evidence({ query: {} }), []);
  const modules = useLive(() => api.core.modules({}), []);
  const tx = useTx();
  const regTx = useTx();
  const [admitAddress, setAdmitAddress] = useState('');
  const [admitRoles, setAdmitRoles] = useState('prosumer,trader');
  const approve = (id: string) => tx.run(() => submit([{ type: REGISTRY_MSG.approve, value: { id } }]));
  const admit = () => regTx.run(() => submit([{ type: REGISTRY_MSG.admit, value: { address: admitAddress.trim(), roles: admitRoles.split(',').map((r) => r.trim()).filter(Boolean) } }]));
  const revoke = (address: string) => regTx.run(() => submit([{ type: REGISTRY_MSG.revoke, value: { address, reason: 'revoked from the dashboard' } }]));
  return (
    <>
      <Card title="Governance proposals" testId="operator-proposals">
        <ErrorBox error={proposals.error} />
        <Table
          rows={proposals.data?.proposals ?? []}
          empty="no proposals"
          columns={[
            ['id', (p) => p.id],
            ['action', (p) => String(p.action.kind ?? JSON.stringify(p.action).slice(0, 60))],
            ['approvals', (p) => `${p.approvals.length} / ${p.threshold}`],
            ['proposer', (p) => <Short value={p.proposer} />],
            ['status', (p) => <span data-testid={`proposal-status-${p.id}`}>{p.status}</span>],
            ['', (p) => (p.status === 'open' && s.address && !p.approvals.includes(s.address) ? <button disabled={tx.busy} onClick={() => void approve(p.id)} data-testid={`approve-${p.id}`}>Approve</button> : null)],
          ]}
        />
        <div data-testid="proposal-outcome">
          <TxOutcome outcome={tx.outcome} />
        </div>
      </Card>
      <Card title="Admissions and revocations" testId="operator-registry">
        <ErrorBox error={log.error} />
        <SignedIn what="admit or revoke accounts (operators only)">
          <form className="inline" onSubmit={(e) => (e.preventDefault(), void admit())}>
            <input placeholder="grid1… address" value={admitAddress} onChange={(e) => setAdmitAddress(e.target.value)} data-testid="admit-address" />
            <input value={admitRoles} onChange={(e) => setAdmitRoles(e.target.value)} aria-label="roles" data-testid="admit-roles" />
            <button disabled={regTx.busy} data-testid="admit-submit">Admit</button>
          </form>
          <TxOutcome outcome={regTx.outcome} />
        </SignedIn>
        <Table
          rows={log.data?.entries ?? []}
          testId="operator-log"
          columns={[
            ['height', (e) => e.height],
            ['action', (e) => e.action],
            ['account', (e) => <Short value={e.address} />],
            ['roles', (e) => e.roles.join(', ')],
            ['by', (e) => <Short value={e.by} />],
            ['', (e) => (e.action === 'admit' && s.address && e.address !== s.address ? <button disabled={regTx.busy} onClick={() => void revoke(e.address)}>Revoke</button> : null)],
          ]}
        />
      </Card>
      <Card title="Validator set" testId="operator-validators">
        <Table rows={validators.data?.validators ?? []} columns={[['address', (v) => <Short value={v.address} />], ['name', (v) => v.name ?? ''], ['power', (v) => v.power], ['key', (v) => <Short value={v.pubKey} />]]} />
      </Card>
      <Card title="Evidence of equivocation" testId="operator-evidence">
        <ErrorBox error={evidence.error} />
        <Table rows={evidence.data?.evidence ?? []} empty="no evidence: no validator signed two conflicting votes" columns={[['height', (e) => e.height], ['evidence', (e) => <code>{JSON.stringify(e.evidence).slice(0, 120)}</code>]]} />
      </Card>
      <Card title="Modules" testId="operator-modules">
        <ErrorBox error={modules.error} />
        <Table
          rows={modules.data?.modules ?? []}
          columns={[['module', (m) => m.name], ['active', (m) => (m.active ? `yes${m.activeFrom ? ` (from ${m.activeFrom})` : ''}` : 'no')], ['state version', (m) => (m.stateVersion === null ? '—' : m.stateVersion === m.latestStateVersion ? String(m.stateVersion) : `${m.stateVersion} (node: up to ${m.latestStateVersion})`)], ['requires', (m) => m.requires.join(', ')], ['messages', (m) => m.messageTypes.length]]}
        />
        {(modules.data?.scheduled.length ?? 0) > 0 && <p>Scheduled: {modules.data!.scheduled.map((u) => `${u.module} ${u.kind}${u.stateVersion ? ` to state version ${u.stateVersion}` : ''} at ${u.height}`).join('; ')}</p>}
      </Card>
    </>
  );
}

export const operatorPage: PageDef = { id: 'operator', title: 'Operator', component: Operator };
