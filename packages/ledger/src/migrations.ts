/**
 * The ledger's tables, one list of migrations for PGlite and PostgreSQL ≥ 15.
 *
 * Invariants the database itself keeps, whoever writes to it:
 * - Amounts are BIGINT minor units (cash) or lots (securities); never floats.
 * - A journal entry has between 2 and `postingsPerEntryMax` postings, exactly as many
 *   as it declares, and its postings sum to zero per asset. A deferred constraint
 *   trigger checks this at COMMIT, so an entry may be written in several statements
 *   but never committed unbalanced. Postings may only be added to an entry created in
 *   the same transaction: a committed entry is closed.
 * - Entries, postings and accounts are append-only: UPDATE, DELETE and TRUNCATE are
 *   refused by triggers. Corrections are new (reversing) entries.
 *
 * How the balance check stays cheap at tens of thousands of entries per second: the
 * statement-level insert triggers remember (in transaction-local settings) the lowest
 * entry id this transaction wrote and forget any earlier verification; at COMMIT the
 * first deferred firing verifies every entry of the transaction in two set-based
 * queries and marks the transaction verified, so the remaining firings return at once.
 * Any later insert (after SET CONSTRAINTS … IMMEDIATE) clears the mark again, and
 * postings arriving after the checks already ran queue a new check in
 * `ledger_rechecks`, so nothing written before COMMIT escapes verification.
 */
import type { Migration } from "@tradestream/store";
import { postingsPerEntryMax } from "./limits.ts";

export const ledgerMigrations: readonly Migration[] = [
  {
    id: 1,
    name: "chart of accounts, journal, consumer offsets",
    sql: `
CREATE TABLE ledger_accounts (
  account_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  code text NOT NULL UNIQUE,
  kind text NOT NULL CHECK (kind IN ('client_cash', 'client_securities', 'clearing', 'fee_income', 'bank', 'custody')),
  asset text NOT NULL CHECK (asset ~ '^([A-Z]{3}|instrument:[1-9][0-9]*)$'),
  client_account_id bigint CHECK (client_account_id > 0),
  CHECK ((kind IN ('client_cash', 'client_securities')) = (client_account_id IS NOT NULL))
);
CREATE INDEX ledger_accounts_client ON ledger_accounts (client_account_id) WHERE client_account_id IS NOT NULL;

CREATE TABLE ledger_instruments (
  instrument_id bigint PRIMARY KEY CHECK (instrument_id > 0),
  symbol text NOT NULL,
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$')
);

CREATE SEQUENCE ledger_entry_id_seq;

CREATE TABLE ledger_entries (
  entry_id bigint PRIMARY KEY DEFAULT nextval('ledger_entry_id_seq'),
  tx_id bigint NOT NULL DEFAULT txid_current(),
  kind text NOT NULL CHECK (kind IN ('trade', 'cash_deposit', 'cash_withdrawal', 'securities_deposit', 'securities_withdrawal',
                                     'bank_receipt', 'bank_payout', 'adjustment', 'reversal')),
  ref text NOT NULL,
  ts_us bigint NOT NULL CHECK (ts_us >= 0),
  posting_count smallint NOT NULL CHECK (posting_count BETWEEN 2 AND ${postingsPerEntryMax})
);

CREATE TABLE ledger_postings (
  entry_id bigint NOT NULL,
  posting_no smallint NOT NULL CHECK (posting_no BETWEEN 1 AND ${postingsPerEntryMax}),
  account_id bigint NOT NULL,
  amount bigint NOT NULL CHECK (amount <> 0),
  ts_us bigint NOT NULL,
  PRIMARY KEY (entry_id, posting_no)
);
CREATE INDEX ledger_postings_account ON ledger_postings (account_id, ts_us);

-- A check queued for COMMIT when postings arrive after the checks already ran. Such
-- postings always change a verified entry's count, so these rows never commit.
CREATE TABLE ledger_rechecks (
  entry_id bigint NOT NULL
);

CREATE TABLE ledger_consumers (
  consumer text PRIMARY KEY,
  last_seq bigint NOT NULL CHECK (last_seq >= 0)
);

CREATE FUNCTION ledger_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the ledger is append-only: % on % is refused; post a reversing entry instead', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'P0001';
END $$;

CREATE TRIGGER ledger_accounts_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_accounts
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_entries
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();
CREATE TRIGGER ledger_postings_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON ledger_postings
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change();

-- Remembers the lowest entry id written by this transaction and forgets any verification.
CREATE FUNCTION ledger_entries_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lowest bigint;
  previous text := current_setting('ledger.tx_lowest_entry', true);
BEGIN
  SELECT min(entry_id) INTO lowest FROM inserted_entries;
  IF previous IS NOT NULL AND previous <> '' AND previous::bigint < lowest THEN lowest := previous::bigint; END IF;
  PERFORM set_config('ledger.tx_lowest_entry', lowest::text, true);
  PERFORM set_config('ledger.tx_verified', '', true);
  RETURN NULL;
END $$;

-- Postings may only join an entry created by the same transaction.
CREATE FUNCTION ledger_postings_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  stray bigint;
BEGIN
  IF current_setting('ledger.tx_verified', true) = 'yes' THEN
    -- The checks already ran (SET CONSTRAINTS … IMMEDIATE), so no check is pending for
    -- these postings' entries: queue one for COMMIT.
    INSERT INTO ledger_rechecks (entry_id) SELECT min(entry_id) FROM inserted_postings HAVING count(*) > 0;
  END IF;
  PERFORM set_config('ledger.tx_verified', '', true);
  SELECT n.entry_id INTO stray
    FROM (SELECT DISTINCT entry_id FROM inserted_postings) n
    LEFT JOIN ledger_entries e ON e.entry_id = n.entry_id
   WHERE e.entry_id IS NULL OR e.tx_id <> txid_current()
   LIMIT 1;
  IF stray IS NOT NULL THEN
    RAISE EXCEPTION 'postings for entry % refused: an entry takes postings only in the transaction that creates it', stray
      USING ERRCODE = '23514';
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER ledger_entries_inserted AFTER INSERT ON ledger_entries
  REFERENCING NEW TABLE AS inserted_entries FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_inserted();
CREATE TRIGGER ledger_postings_inserted AFTER INSERT ON ledger_postings
  REFERENCING NEW TABLE AS inserted_postings FOR EACH STATEMENT EXECUTE FUNCTION ledger_postings_inserted();

-- At COMMIT: every entry of this transaction has its declared number of postings and balances per asset.
CREATE FUNCTION ledger_verify_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lowest bigint;
  bad_entry bigint;
  bad_asset text;
BEGIN
  IF current_setting('ledger.tx_verified', true) = 'yes' THEN RETURN NULL; END IF;
  -- Unset when constraints run IMMEDIATE: row triggers fire before the statement trigger.
  lowest := least(nullif(current_setting('ledger.tx_lowest_entry', true), '')::bigint, NEW.entry_id);
  SELECT e.entry_id INTO bad_entry
    FROM ledger_entries e
    LEFT JOIN (SELECT entry_id, count(*) AS n FROM ledger_postings WHERE entry_id >= lowest GROUP BY entry_id) c
      ON c.entry_id = e.entry_id
   WHERE e.entry_id >= lowest AND e.tx_id = txid_current() AND e.posting_count IS DISTINCT FROM c.n
   LIMIT 1;
  IF bad_entry IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry % does not have the number of postings it declares (at least 2)', bad_entry
      USING ERRCODE = '23514';
  END IF;
  SELECT s.entry_id, s.asset INTO bad_entry, bad_asset
    FROM (SELECT p.entry_id, coalesce(a.asset, 'an unknown account') AS asset, sum(p.amount) AS total
            FROM ledger_postings p LEFT JOIN ledger_accounts a ON a.account_id = p.account_id
           WHERE p.entry_id >= lowest
           GROUP BY p.entry_id, a.asset) s
   WHERE s.total <> 0 OR s.asset = 'an unknown account'
   LIMIT 1;
  IF bad_entry IS NOT NULL THEN
    RAISE EXCEPTION 'ledger entry % is unbalanced in %: debits and credits differ', bad_entry, bad_asset
      USING ERRCODE = '23514';
  END IF;
  PERFORM set_config('ledger.tx_verified', 'yes', true);
  RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_verify_entries();
CREATE CONSTRAINT TRIGGER ledger_rechecks_balanced AFTER INSERT ON ledger_rechecks
  DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_verify_entries();
`,
  },
  {
    id: 2,
    name: "payments, webhook receipts, card vault",
    sql: `
CREATE TABLE ledger_payments (
  payment_id text PRIMARY KEY,
  account_id bigint NOT NULL CHECK (account_id > 0),
  direction text NOT NULL CHECK (direction IN ('deposit', 'withdrawal')),
  currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
  amount_minor bigint NOT NULL CHECK (amount_minor > 0),
  idempotency_key text NOT NULL,
  status text NOT NULL CHECK (status IN ('rejected', 'reserving', 'pending', 'crediting', 'posted', 'failed', 'voiding', 'voided')),
  reason text,
  provider text NOT NULL,
  provider_ref text,
  card_token text,
  created_at_ms bigint NOT NULL,
  updated_at_ms bigint NOT NULL,
  day_utc integer NOT NULL,
  UNIQUE (account_id, idempotency_key)
);
CREATE INDEX ledger_payments_day ON ledger_payments (account_id, currency, day_utc) WHERE direction = 'withdrawal';
CREATE INDEX ledger_payments_status ON ledger_payments (status, updated_at_ms);

CREATE TABLE ledger_webhook_events (
  event_id text PRIMARY KEY,
  payment_id text,
  received_at_ms bigint NOT NULL
);

CREATE TABLE ledger_card_vault (
  token text PRIMARY KEY,
  key_id text NOT NULL,
  sealed text NOT NULL,
  last_four text NOT NULL CHECK (last_four ~ '^[0-9]{4}$'),
  brand text NOT NULL,
  created_at_ms bigint NOT NULL,
  sealed_at_ms bigint NOT NULL
);
CREATE INDEX ledger_card_vault_key ON ledger_card_vault (key_id);
`,
  },
  {
    id: 3,
    name: "entry verification reads the transaction's postings once",
    // The same checks as migration 1's function, in one pass over the postings (joined to
    // their accounts) instead of two, and the first problem by entry id: settlement took
    // 10-15 % less per trade on PGlite with transactions of ≈ 1,000 trades and 10-20 % more
    // trades/s on PostgreSQL (docs/BENCHMARKS.md, sixth round).
    sql: `
-- At COMMIT: every entry of this transaction has its declared number of postings and balances per asset.
CREATE OR REPLACE FUNCTION ledger_verify_entries() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lowest bigint;
  bad_entry bigint;
  bad_asset text;
  bad_rank int;
BEGIN
  IF current_setting('ledger.tx_verified', true) = 'yes' THEN RETURN NULL; END IF;
  -- Unset when constraints run IMMEDIATE: row triggers fire before the statement trigger.
  lowest := least(nullif(current_setting('ledger.tx_lowest_entry', true), '')::bigint, NEW.entry_id);
  -- One pass over this transaction's postings: per entry and asset, their sum and count.
  WITH sums AS (
    SELECT p.entry_id, a.asset, sum(p.amount) AS total, count(*) AS n
      FROM ledger_postings p LEFT JOIN ledger_accounts a ON a.account_id = p.account_id
     WHERE p.entry_id >= lowest
     GROUP BY p.entry_id, a.asset
  ), problems AS (
    -- 1: an entry of this transaction without the number of postings it declares.
    SELECT 1 AS rank, e.entry_id, NULL::text AS asset
      FROM ledger_entries e
      LEFT JOIN (SELECT entry_id, sum(n) AS n FROM sums GROUP BY entry_id) c ON c.entry_id = e.entry_id
     WHERE e.entry_id >= lowest AND e.tx_id = txid_current() AND e.posting_count IS DISTINCT FROM c.n
    UNION ALL
    -- 2: an entry whose postings do not sum to zero in one asset, or name no account.
    SELECT 2, s.entry_id, coalesce(s.asset, 'an unknown account') FROM sums s WHERE s.total <> 0 OR s.asset IS NULL
  )
  SELECT p.rank, p.entry_id, p.asset INTO bad_rank, bad_entry, bad_asset FROM problems p ORDER BY p.rank, p.entry_id LIMIT 1;
  IF bad_rank = 1 THEN
    RAISE EXCEPTION 'ledger entry % does not have the number of postings it declares (at least 2)', bad_entry
      USING ERRCODE = '23514';
  END IF;
  IF bad_rank = 2 THEN
    RAISE EXCEPTION 'ledger entry % is unbalanced in %: debits and credits differ', bad_entry, bad_asset
      USING ERRCODE = '23514';
  END IF;
  PERFORM set_config('ledger.tx_verified', 'yes', true);
  RETURN NULL;
END $$;
`,
  },
];
