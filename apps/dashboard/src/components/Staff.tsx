/**
 * Views for staff roles, each backed by the API routes its role may call
 * (roles.ts): every account's orders (compliance, auditors, support, admin),
 * the audit trail, the ledger's trial balance and reconciliation, operational
 * status (SRE, admin), users, and the controls — halt/resume an instrument and
 * the kill switch per account or firm (compliance, admin).
 */
import { useCallback, useEffect, useState, type FormEvent, type ReactElement } from "react";
import { ApiError } from "../api.ts";
import { useApp, useLive } from "../context.ts";
import { dateTime, money } from "../format.ts";
import { can } from "../roles.ts";
import type { Order } from "../types.ts";
import { OrderTable } from "./Blotter.tsx";

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

function Failure(props: { error: string | null }): ReactElement | null {
  return props.error === null ? null : (
    <p role="alert" className="error">
      {props.error}
    </p>
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
  const { data, error, reload } = useRoute<{ items: Order[] }>(`/api/v1/orders?limit=200${query}`, 5_000);
  return (
    <section className="panel page" aria-labelledby="orders-title">
      <div className="panel-head">
        <h1 id="orders-title">Orders of every account</h1>
        <label className="inline">
          Account
          <input value={filter} onChange={(event) => setFilter(event.target.value)} inputMode="numeric" placeholder="all" />
        </label>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <Failure error={error} />
      <OrderTable orders={data?.items ?? []} label="Orders of every account" showAccount />
    </section>
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

export function AuditTrail(): ReactElement {
  const [action, setAction] = useState("");
  const query = /^[a-z_.]+$/.test(action) ? `&action=${action}` : "";
  const { data, error, reload } = useRoute<{ items: AuditItem[] }>(`/api/v1/admin/audit?limit=200${query}`);
  return (
    <section className="panel page" aria-labelledby="audit-title">
      <div className="panel-head">
        <h1 id="audit-title">Audit trail</h1>
        <label className="inline">
          Action
          <input value={action} onChange={(event) => setAction(event.target.value)} placeholder="e.g. instrument.halt" />
        </label>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      <Failure error={error} />
      <table className="blotter-table" aria-label="Audit trail">
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Actor</th>
            <th scope="col">Action</th>
            <th scope="col">Target</th>
            <th scope="col">Outcome</th>
            <th scope="col">IP</th>
            <th scope="col">Detail</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((item) => (
            <tr key={item.id}>
              <td>{dateTime(item.at)}</td>
              <td>{item.actor}</td>
              <td>{item.action}</td>
              <td>{item.target ?? ""}</td>
              <td className={item.outcome === "ok" ? "" : "down"}>{item.outcome}</td>
              <td>{item.ip ?? ""}</td>
              <td className="detail">{Object.keys(item.detail).length === 0 ? "" : JSON.stringify(item.detail)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
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
    <section className="panel page" aria-labelledby="ledger-title">
      <h1 id="ledger-title">Ledger</h1>
      <Failure error={trial.error} />
      {trial.data !== null && (
        <>
          <p role="status">
            Trial balance {trial.data.balanced ? <strong className="up">balanced</strong> : <strong className="down">NOT balanced</strong>} · settled up to event {trial.data.projectedUpToSeq}
          </p>
          <table className="blotter-table" aria-label="Trial balance">
            <thead>
              <tr>
                <th scope="col">Asset</th>
                <th scope="col" className="num">
                  Debit
                </th>
                <th scope="col" className="num">
                  Credit
                </th>
                <th scope="col">Balanced</th>
              </tr>
            </thead>
            <tbody>
              {trial.data.currencies.map((row) => (
                <tr key={row.currency}>
                  <td>{row.currency}</td>
                  <td className="num">{money(row.debit, row.currency)}</td>
                  <td className="num">{money(row.credit, row.currency)}</td>
                  <td>{row.balanced ? "yes" : "no"}</td>
                </tr>
              ))}
              {trial.data.securities.map((row) => (
                <tr key={row.symbol}>
                  <td>{row.symbol}</td>
                  <td className="num">{row.debit}</td>
                  <td className="num">{row.credit}</td>
                  <td>{row.balanced ? "yes" : "no"}</td>
                </tr>
              ))}
            </tbody>
          </table>
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
          {recon.differences.length > 0 && (
            <table className="blotter-table" aria-label="Differences">
              <thead>
                <tr>
                  <th scope="col">Account</th>
                  <th scope="col">Asset</th>
                  <th scope="col">Engine</th>
                  <th scope="col">Ledger</th>
                  <th scope="col">Difference</th>
                </tr>
              </thead>
              <tbody>
                {recon.differences.map((row) => (
                  <tr key={`${String(row.accountId)}:${row.asset}`}>
                    <td>{row.accountId}</td>
                    <td>{row.asset}</td>
                    <td>{row.engine}</td>
                    <td>{row.ledger}</td>
                    <td>{row.difference}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}

export function Operations(): ReactElement {
  const status = useRoute<Record<string, unknown>>("/api/v1/ops/status", 2_000);
  const ledger = useRoute<Record<string, unknown>>("/api/v1/ledger/status", 2_000);
  const store = useLive();
  return (
    <section className="panel page" aria-labelledby="ops-title">
      <h1 id="ops-title">Operations</h1>
      <h2>Platform</h2>
      <Failure error={status.error} />
      {status.data !== null && <KeyValues value={status.data} label="Platform status" />}
      <h2>Settlement projection</h2>
      <Failure error={ledger.error} />
      {ledger.data !== null && <KeyValues value={ledger.data} label="Ledger projection status" />}
      <h2>This dashboard</h2>
      <KeyValues value={{ connection: store.connection, bookResyncs: store.resyncs }} label="Dashboard connection" />
    </section>
  );
}

interface UserItem {
  readonly userId: number;
  readonly username: string;
  readonly displayName: string;
  readonly groups: readonly string[];
  readonly accountIds: readonly number[];
  readonly mfaEnrolled: boolean;
  readonly sso: boolean;
  readonly disabled: boolean;
}

export function Users(): ReactElement {
  const { data, error } = useRoute<{ items: UserItem[] }>("/api/v1/admin/users");
  return (
    <section className="panel page" aria-labelledby="users-title">
      <h1 id="users-title">Users</h1>
      <Failure error={error} />
      <table className="blotter-table" aria-label="Users">
        <thead>
          <tr>
            <th scope="col">User</th>
            <th scope="col">Name</th>
            <th scope="col">Groups</th>
            <th scope="col">Accounts</th>
            <th scope="col">Second factor</th>
            <th scope="col">State</th>
          </tr>
        </thead>
        <tbody>
          {(data?.items ?? []).map((user) => (
            <tr key={user.userId}>
              <td>{user.username}</td>
              <td>{user.displayName}</td>
              <td>{user.groups.join(", ")}</td>
              <td>{user.accountIds.join(", ")}</td>
              <td>{user.sso ? "SSO" : user.mfaEnrolled ? "TOTP" : "none"}</td>
              <td>{user.disabled ? "disabled" : "active"}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

interface AccountSummary {
  readonly accountId: number;
  readonly firmId: number;
  readonly openOrders: number;
  readonly killSwitch: boolean;
}

export function Controls(): ReactElement {
  const store = useLive();
  const { session, user } = useApp();
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const accounts = useRoute<{ items: AccountSummary[] }>("/api/v1/accounts", 5_000);
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

  return (
    <section className="panel page" aria-labelledby="controls-title">
      <h1 id="controls-title">Controls</h1>
      {message !== null && (
        <p role={message.kind === "ok" ? "status" : "alert"} className={message.kind === "ok" ? "ok" : "error"}>
          {message.text}
        </p>
      )}
      <h2>Instruments</h2>
      <table className="blotter-table" aria-label="Instrument trading state">
        <thead>
          <tr>
            <th scope="col">Symbol</th>
            <th scope="col">Market</th>
            <th scope="col">Reference</th>
            <th scope="col">State</th>
            <th scope="col">Action</th>
          </tr>
        </thead>
        <tbody>
          {symbols.map((instrument) => (
            <tr key={instrument.symbol} data-symbol={instrument.symbol}>
              <td>{instrument.symbol}</td>
              <td>{instrument.mic}</td>
              <td>{instrument.referencePrice}</td>
              <td className={instrument.state === "open" ? "up" : "down"}>{instrument.state}</td>
              <td className="actions">
                {instrument.state === "open" ? (
                  <button type="button" className="danger" onClick={() => void act(`Halt ${instrument.symbol}`, `/api/v1/admin/instruments/${instrument.symbol}/halt`, {})}>
                    Halt {instrument.symbol}
                  </button>
                ) : (
                  <button type="button" onClick={() => void act(`Resume ${instrument.symbol}`, `/api/v1/admin/instruments/${instrument.symbol}/resume`, {})}>
                    Resume {instrument.symbol}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
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
          <table className="blotter-table" aria-label="Accounts">
            <thead>
              <tr>
                <th scope="col">Account</th>
                <th scope="col">Firm</th>
                <th scope="col">Open orders</th>
                <th scope="col">Kill switch</th>
              </tr>
            </thead>
            <tbody>
              {(accounts.data?.items ?? []).map((account) => (
                <tr key={account.accountId}>
                  <td>{account.accountId}</td>
                  <td>{account.firmId}</td>
                  <td>{account.openOrders}</td>
                  <td className={account.killSwitch ? "down" : ""}>{account.killSwitch ? "ENGAGED" : "off"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
