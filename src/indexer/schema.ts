/**
 * The PostgreSQL schema of the indexer (docs/indexer.md documents every table and view). Rows hold
 * only what the chain determines (no wall-clock columns), so indexing the same chain twice gives
 * identical tables. Heights, nonces, slots and Wh are bigint; amounts are numeric (they may exceed
 * 2^63 µ-units).
 */
export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS indexer_state (
  id smallint PRIMARY KEY CHECK (id = 1),
  chain_id text NOT NULL,
  height bigint NOT NULL,
  block_hash text NOT NULL,
  block_time_ms bigint NOT NULL,
  next_validators jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS blocks (
  height bigint PRIMARY KEY,
  hash text NOT NULL UNIQUE,
  time_ms bigint NOT NULL,
  proposer text NOT NULL,
  tx_count integer NOT NULL,
  state_root text NOT NULL,
  header jsonb NOT NULL,
  commit jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS txs (
  hash text PRIMARY KEY,
  height bigint NOT NULL REFERENCES blocks (height),
  idx integer NOT NULL,
  sender text NOT NULL,
  nonce bigint NOT NULL,
  memo text NOT NULL,
  code text NOT NULL,
  message text NOT NULL,
  UNIQUE (height, idx)
);
CREATE TABLE IF NOT EXISTS messages (
  height bigint NOT NULL,
  tx_idx integer NOT NULL,
  msg_idx integer NOT NULL,
  tx_hash text NOT NULL REFERENCES txs (hash),
  type text NOT NULL,
  value jsonb NOT NULL,
  ok boolean NOT NULL,
  PRIMARY KEY (height, tx_idx, msg_idx)
);
CREATE TABLE IF NOT EXISTS events (
  height bigint NOT NULL,
  tx_idx integer NOT NULL,
  event_idx integer NOT NULL,
  tx_hash text NOT NULL REFERENCES txs (hash),
  type text NOT NULL,
  attributes jsonb NOT NULL,
  PRIMARY KEY (height, tx_idx, event_idx)
);
CREATE TABLE IF NOT EXISTS communities (
  id text PRIMARY KEY,
  name text NOT NULL,
  timezone text NOT NULL,
  owner text NOT NULL,
  parent text,
  height bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS meters (
  community text NOT NULL,
  meter_id text NOT NULL,
  kind text NOT NULL,
  trader text NOT NULL,
  height bigint NOT NULL,
  PRIMARY KEY (community, meter_id)
);
CREATE TABLE IF NOT EXISTS readings (
  meter_id text NOT NULL,
  slot bigint NOT NULL,
  import_wh bigint NOT NULL,
  export_wh bigint NOT NULL,
  height bigint NOT NULL,
  tx_hash text NOT NULL,
  PRIMARY KEY (meter_id, slot)
);
CREATE TABLE IF NOT EXISTS payments (
  height bigint NOT NULL,
  tx_idx integer NOT NULL,
  msg_idx integer NOT NULL,
  kind text NOT NULL,
  asset text NOT NULL,
  from_address text,
  to_address text,
  amount numeric NOT NULL,
  PRIMARY KEY (height, tx_idx, msg_idx)
);

CREATE OR REPLACE VIEW daily_energy_per_community AS
  SELECT m.community,
         (to_timestamp(r.slot * 900) AT TIME ZONE c.timezone)::date AS day,
         sum(r.import_wh) AS import_wh,
         sum(r.export_wh) AS export_wh,
         count(*) AS readings
  FROM readings r
  JOIN meters m ON m.meter_id = r.meter_id
  JOIN communities c ON c.id = m.community
  GROUP BY m.community, day;

CREATE OR REPLACE VIEW daily_kpis AS
  SELECT (to_timestamp(b.time_ms / 1000.0) AT TIME ZONE 'UTC')::date AS day,
         count(DISTINCT b.height) AS blocks,
         count(t.hash) AS txs,
         count(t.hash) FILTER (WHERE t.code = 'OK') AS txs_ok,
         count(DISTINCT t.sender) AS active_senders
  FROM blocks b LEFT JOIN txs t ON t.height = b.height
  GROUP BY day;

CREATE OR REPLACE VIEW bills AS
  SELECT m.height, m.tx_idx, m.msg_idx, m.value->>'community' AS community, b.bill->>'member' AS member,
         (b.bill->>'fromSlot')::bigint AS from_slot, (b.bill->>'toSlot')::bigint AS to_slot, b.bill->>'hash' AS hash
  FROM messages m, jsonb_array_elements(m.value->'bills') AS b(bill)
  WHERE m.type = 'market/record-bills' AND m.ok;
`;

/** The tables a re-index rewrites (in an order their references allow to truncate). */
export const DATA_TABLES = ['payments', 'readings', 'meters', 'communities', 'events', 'messages', 'txs', 'blocks', 'indexer_state'] as const;
