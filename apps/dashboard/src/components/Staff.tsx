/**
 * Views for staff roles, each backed by the API routes its role may call
 * (roles.ts): every account's orders (compliance, auditors, support, admin),
 * the audit trail, the ledger's trial balance and reconciliation, operational
 * status (SRE, admin), users, and the controls — halt/resume an instrument and
 * the kill switch per account or firm (compliance, admin).
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactElement, type ReactNode } from "react";
import { ApiError } from "../api.ts";
import { useApp, useLive } from "../context.ts";
import { dateTime, money } from "../format.ts";
import { can } from "../roles.ts";
import type { Instrument, Order, User } from "../types.ts";
import { OrderTable } from "./Blotter.tsx";
import { DataTable, type Column } from "./DataTable.tsx";

function explain(error: unknown): string {
  return error instanceof ApiError ? `${error.message} (${error.code})` : "The request failed.";
}

/** Loads a route and reloads it every `everyMs` (0 = once). */
function useRoute<T>(path: string, everyMs = 0): { data: T | null; error: string | null; reload: () => void } {
  const { session } = useApp();
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((value) => value + 1), []);
  useEffect(() => {
    let cancelled = false;
    session
      .get<T>(path)
      .then((answer) => {
        if (!cancelled) {
          setData(answer);
          setError(null);
        }
      })
      .catch((caught: unknown) => {
        if (!cancelled) setError(explain(caught));
      });
    const timer = everyMs > 0 ? setTimeout(reload, everyMs) : null;
    return () => {
      cancelled = true;
      if (timer !== null) clearTimeout(timer);
    };
  }, [session, path, everyMs, tick, reload]);
  return { data, error, reload };
}

/** A list route ({ items }): its items (none while loading or after a failure). */
function useItems<T>(path: string, everyMs = 0): { items: readonly T[]; error: string | null; reload: () => void } {
  const { data, error, reload } = useRoute<{ items: T[] }>(path, everyMs);
  return { items: data?.items ?? [], error, reload };
}

function Failure(props: { error: string | null }): ReactElement | null {
  return props.error === null ? null : (
    <p role="alert" className="error">
      {props.error}
    </p>
  );
}

interface Filter {
  readonly label: string;
  readonly value: string;
  readonly onChange: (value: string) => void;
  readonly placeholder: string;
  readonly inputMode?: "numeric";
}

/** A staff view: a titled panel; with a filter, the title shares a bar with the filter's input and a Refresh button. */
function Page(props: { id: string; title: string; filter?: Filter; onRefresh?: () => void; children: ReactNode }): ReactElement {
  const titleId = `${props.id}-title`;
  const title = <h1 id={titleId}>{props.title}</h1>;
  const { filter, onRefresh } = props;
  return (
    <section className="panel page" aria-labelledby={titleId}>
      {filter === undefined ? (
        title
      ) : (
        <div className="panel-head">
          {title}
          <label className="inline">
            {filter.label}
            <input value={filter.value} onChange={(event) => filter.onChange(event.target.value)} inputMode={filter.inputMode} placeholder={filter.placeholder} />
          </label>
          {onRefresh !== undefined && (
            <button type="button" onClick={onRefresh}>
              Refresh
            </button>
          )}
        </div>
      )}
      {props.children}
    </section>
  );
}

function KeyValues(props: { value: Record<string, unknown>; label: string }): ReactElement {
  return (
    <dl className="kv" aria-label={props.label}>
      {Object.entries(props.value).map(([key, value]) => (
        <div key={key}>
          <dt>{key}</dt>
          <dd>{typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}</dd>
        </div>
      ))}
    </dl>
  );
}

export function AllOrders(): ReactElement {
  const [filter, setFilter] = useState("");
  const query = filter.trim() === "" ? "" : `&accountId=${encodeURIComponent(filter.trim())}`;
  const { items, error, reload } = useItems<Order>(`/api/v1/orders?limit=200${query}`, 5_000);
  return (
    <Page id="orders" title="Orders of every account" filter={{ label: "Account", value: filter, onChange: setFilter, inputMode: "numeric", placeholder: "all" }} onRefresh={reload}>
      <Failure error={error} />
      <OrderTable orders={items} label="Orders of every account" showAccount />
    </Page>
  );
}

interface AuditItem {
  readonly id: number;
  readonly at: string;
  readonly actor: string;
  readonly action: string;
  readonly target: string | null;
  readonly outcome: string;
  readonly ip: string | null;
  readonly detail: Record<string, unknown>;
}

const auditColumns: ReadonlyArray<Column<AuditItem>> = [
  { header: "Time", cell: (item) => dateTime(item.at) },
  { header: "Actor", cell: (item) => item.actor },
  { header: "Action", cell: (item) => item.action },
  { header: "Target", cell: (item) => item.target ?? "" },
  { header: "Outcome", cell: (item) => item.outcome, cellClass: (item) => (item.outcome === "ok" ? "" : "down") },
  { header: "IP", cell: (item) => item.ip ?? "" },
  { header: "Detail", cell: (item) => (Object.keys(item.detail).length === 0 ? "" : JSON.stringify(item.detail)), cellClass: () => "detail" },
];

export function AuditTrail(): ReactElement {
  const [action, setAction] = useState("");
  const query = /^[a-z_.]+$/.test(action) ? `&action=${action}` : "";
  const { items, error, reload } = useItems<AuditItem>(`/api/v1/admin/audit?limit=200${query}`);
  return (
    <Page id="audit" title="Audit trail" filter={{ label: "Action", value: action, onChange: setAction, placeholder: "e.g. instrument.halt" }} onRefresh={reload}>
      <Failure error={error} />
      <DataTable className="blotter-table" aria-label="Audit trail" columns={auditColumns} rows={items} rowKey={(item) => item.id} />
    </Page>
  );
}

interface TrialBalance {
  readonly asOf: string | null;
  readonly balanced: boolean;
  readonly currencies: ReadonlyArray<{ currency: string; debit: string; credit: string; balanced: boolean }>;
  readonly securities: ReadonlyArray<{ symbol: string; debit: string; credit: string; balanced: boolean }>;
  readonly projectedUpToSeq: number;
}

interface Reconciliation {
  readonly status: string;
  readonly atSeq: number;
  readonly checked: number;
  readonly differences: ReadonlyArray<{ accountId: number; asset: string; engine: string; ledger: string; difference: string }>;
}

/** A trial balance line, cash (formatted in its currency) or securities (as quantities). */
type TrialRow = Omit<TrialBalance["currencies"][number], "currency"> & { readonly key: string; readonly asset: string };

const trialColumns: ReadonlyArray<Column<TrialRow>> = [
  { header: "Asset", cell: (row) => row.asset },
  { header: "Debit", numeric: true, cell: (row) => row.debit },
  { header: "Credit", numeric: true, cell: (row) => row.credit },
  { header: "Balanced", cell: (row) => (row.balanced ? "yes" : "no") },
];

function trialRows(trial: TrialBalance): TrialRow[] {
  return [
    ...trial.currencies.map((row) => ({ key: `cash:${row.currency}`, asset: row.currency, debit: money(row.debit, row.currency), credit: money(row.credit, row.currency), balanced: row.balanced })),
    ...trial.securities.map((row) => ({ key: `security:${row.symbol}`, asset: row.symbol, debit: row.debit, credit: row.credit, balanced: row.balanced })),
  ];
}

type Difference = Reconciliation["differences"][number];

const differenceColumns: ReadonlyArray<Column<Difference>> = [
  { header: "Account", cell: (row) => row.accountId },
  { header: "Asset", cell: (row) => row.asset },
  { header: "Engine", cell: (row) => row.engine },
  { header: "Ledger", cell: (row) => row.ledger },
  { header: "Difference", cell: (row) => row.difference },
];

export function Ledger(): ReactElement {
  const trial = useRoute<TrialBalance>("/api/v1/ledger/trial-balance", 10_000);
  const { session } = useApp();
  const [recon, setRecon] = useState<Reconciliation | null>(null);
  const [reconError, setReconError] = useState<string | null>(null);
  const reconcile = (): void => {
    setReconError(null);
    session
      .get<Reconciliation>("/api/v1/ledger/reconciliation")
      .then(setRecon)
      .catch((caught: unknown) => setReconError(explain(caught)));
  };
  return (
    <Page id="ledger" title="Ledger">
      <Failure error={trial.error} />
      {trial.data !== null && (
        <>
          <p role="status">
            Trial balance {trial.data.balanced ? <strong className="up">balanced</strong> : <strong className="down">NOT balanced</strong>} · settled up to event {trial.data.projectedUpToSeq}
          </p>
          <DataTable className="blotter-table" aria-label="Trial balance" columns={trialColumns} rows={trialRows(trial.data)} rowKey={(row) => row.key} />
        </>
      )}
      <h2>Reconciliation</h2>
      <button type="button" onClick={reconcile}>
        Reconcile engine against ledger
      </button>
      <Failure error={reconError} />
      {recon !== null && (
        <>
          <p role="status">
            {recon.status} at event {recon.atSeq}: {recon.checked} balances checked, {recon.differences.length} differences.
          </p>
          {recon.differences.length > 0 && <DataTable className="blotter-table" aria-label="Differences" columns={differenceColumns} rows={recon.differences} rowKey={(row) => `${String(row.accountId)}:${row.asset}`} />}
        </>
      )}
    </Page>
  );
}

export function Operations(): ReactElement {
  const status = useRoute<Record<string, unknown>>("/api/v1/ops/status", 2_000);
  const ledger = useRoute<Record<string, unknown>>("/api/v1/ledger/status", 2_000);
  const store = useLive();
  return (
    <Page id="ops" title="Operations">
      <h2>Platform</h2>
      <Failure error={status.error} />
      {status.data !== null && <KeyValues value={status.data} label="Platform status" />}
      <h2>Settlement projection</h2>
      <Failure error={ledger.error} />
      {ledger.data !== null && <KeyValues value={ledger.data} label="Ledger projection status" />}
      <h2>This dashboard</h2>
      <KeyValues value={{ connection: store.connection, bookResyncs: store.resyncs }} label="Dashboard connection" />
    </Page>
  );
}

/** A user as the admin list shows one: the signed-in user's fields but the roles, and the account state. */
interface UserItem extends Omit<User, "roles"> {
  readonly sso: boolean;
  readonly disabled: boolean;
}

const userColumns: ReadonlyArray<Column<UserItem>> = [
  { header: "User", cell: (user) => user.username },
  { header: "Name", cell: (user) => user.displayName },
  { header: "Groups", cell: (user) => user.groups.join(", ") },
  { header: "Accounts", cell: (user) => user.accountIds.join(", ") },
  { header: "Second factor", cell: (user) => (user.sso ? "SSO" : user.mfaEnrolled ? "TOTP" : "none") },
  { header: "State", cell: (user) => (user.disabled ? "disabled" : "active") },
];

export function Users(): ReactElement {
  const { items, error } = useItems<UserItem>("/api/v1/admin/users");
  return (
    <Page id="users" title="Users">
      <Failure error={error} />
      <DataTable className="blotter-table" aria-label="Users" columns={userColumns} rows={items} rowKey={(user) => user.userId} />
    </Page>
  );
}

interface AccountSummary {
  readonly accountId: number;
  readonly firmId: number;
  readonly openOrders: number;
  readonly killSwitch: boolean;
}

const accountColumns: ReadonlyArray<Column<AccountSummary>> = [
  { header: "Account", cell: (account) => account.accountId },
  { header: "Firm", cell: (account) => account.firmId },
  { header: "Open orders", cell: (account) => account.openOrders },
  { header: "Kill switch", cell: (account) => (account.killSwitch ? "ENGAGED" : "off"), cellClass: (account) => (account.killSwitch ? "down" : "") },
];

export function Controls(): ReactElement {
  const store = useLive();
  const { session, user } = useApp();
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const accounts = useItems<AccountSummary>("/api/v1/accounts", 5_000);
  const [scope, setScope] = useState<"account" | "firm">("account");
  const [target, setTarget] = useState("");
  const symbols = [...store.instruments.values()].sort((a, b) => a.symbol.localeCompare(b.symbol));

  const act = async (label: string, path: string, body: unknown): Promise<void> => {
    setMessage(null);
    try {
      await session.post(path, body);
      setMessage({ kind: "ok", text: `${label}: done.` });
      accounts.reload();
    } catch (caught) {
      setMessage({ kind: "error", text: `${label}: ${explain(caught)}` });
    }
  };
  const kill = (active: boolean) => (event?: FormEvent): void => {
    event?.preventDefault();
    const id = Number(target);
    if (!Number.isSafeInteger(id) || id <= 0) {
      setMessage({ kind: "error", text: "Enter the account or firm number." });
      return;
    }
    void act(`Kill switch ${active ? "on" : "off"} for ${scope} ${target}`, "/api/v1/admin/kill-switch", { scope, id, active });
  };

  const instrumentColumns: ReadonlyArray<Column<Instrument>> = [
    { header: "Symbol", cell: (instrument) => instrument.symbol },
    { header: "Market", cell: (instrument) => instrument.mic },
    { header: "Reference", cell: (instrument) => instrument.referencePrice },
    { header: "State", cell: (instrument) => instrument.state, cellClass: (instrument) => (instrument.state === "open" ? "up" : "down") },
    {
      header: "Action",
      cellClass: () => "actions",
      cell: (instrument) =>
        instrument.state === "open" ? (
          <button type="button" className="danger" onClick={() => void act(`Halt ${instrument.symbol}`, `/api/v1/admin/instruments/${instrument.symbol}/halt`, {})}>
            Halt {instrument.symbol}
          </button>
        ) : (
          <button type="button" onClick={() => void act(`Resume ${instrument.symbol}`, `/api/v1/admin/instruments/${instrument.symbol}/resume`, {})}>
            Resume {instrument.symbol}
          </button>
        ),
    },
  ];

  return (
    <Page id="controls" title="Controls">
      {message !== null && (
        <p role={message.kind === "ok" ? "status" : "alert"} className={message.kind === "ok" ? "ok" : "error"}>
          {message.text}
        </p>
      )}
      <h2>Instruments</h2>
      <DataTable className="blotter-table" aria-label="Instrument trading state" columns={instrumentColumns} rows={symbols} rowKey={(instrument) => instrument.symbol} rowProps={(instrument) => ({ "data-symbol": instrument.symbol })} />
      {can(user.roles, "kill_switch") && (
        <>
          <h2>Kill switch</h2>
          <form className="row" onSubmit={kill(true)} aria-label="Kill switch">
            <label>
              Scope
              <select value={scope} onChange={(event) => setScope(event.target.value as "account" | "firm")}>
                <option value="account">Account</option>
                <option value="firm">Firm</option>
              </select>
            </label>
            <label>
              Number
              <input value={target} onChange={(event) => setTarget(event.target.value)} inputMode="numeric" required />
            </label>
            <button type="submit" className="danger">
              Engage (cancels open orders)
            </button>
            <button type="button" onClick={() => kill(false)()}>
              Release
            </button>
          </form>
          <Failure error={accounts.error} />
          <DataTable className="blotter-table" aria-label="Accounts" columns={accountColumns} rows={accounts.items} rowKey={(account) => account.accountId} />
        </>
      )}
    </Page>
  );
}
