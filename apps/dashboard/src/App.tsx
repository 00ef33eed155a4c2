/**
 * The application shell: sign-in (password + TOTP, or single sign-on), then the
 * signed-in app — navigation by role, the connection state, and the screens.
 * The live store and feed are created once per sign-in; the trading account
 * (picked in the top bar when the user has several) decides which private
 * channels are subscribed and what the ticket and blotter show; the ticket's
 * draft lives here (and in sessionStorage), so neither a session expiry nor a
 * reload loses a half-filled ticket.
 */
import { lazy, Suspense, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore, type ReactElement } from "react";
import { accountHistoryPaths, accountSubscriptions, initialAccount, rememberAccount } from "./accounts.ts";
import { ApiError, Session } from "./api.ts";
import { wsUrl, type DashboardConfig } from "./config.ts";
import { AppContext, useApp, useLive, type AppState } from "./context.ts";
import { LiveFeed } from "./live.ts";
import { navFor, type View } from "./roles.ts";
import { Store } from "./store.ts";
import { emptyDraft, type TicketDraft, type TicketMarket } from "./ticket.ts";
import type { Fill, Instrument, Order, PublicTrade, User } from "./types.ts";
import { AccountPicker } from "./components/AccountPicker.tsx";
import { Blotter } from "./components/Blotter.tsx";
import { Ladder, Tape, Watchlist } from "./components/Market.tsx";
import { Enrol, SignIn } from "./components/SignIn.tsx";
import { AllOrders, AuditTrail, Controls, Ledger, Operations, Users } from "./components/Staff.tsx";
import { Ticket } from "./components/Ticket.tsx";

const Chart = lazy(() => import("./components/Chart.tsx"));

const draftKey = "tradestream.ticket";
const symbolKey = "tradestream.symbol";

function savedDraft(): TicketDraft {
  try {
    const saved = sessionStorage.getItem(draftKey);
    return saved === null ? emptyDraft : { ...emptyDraft, ...(JSON.parse(saved) as Partial<TicketDraft>) };
  } catch {
    return emptyDraft;
  }
}

function ConnectionBadge(): ReactElement {
  const store = useLive();
  const labels = { connecting: "Connecting…", live: "Live", reconnecting: "Reconnecting…", offline: "Offline" } as const;
  return (
    <span className={`connection ${store.connection}`} role="status" aria-live="polite" data-state={store.connection}>
      <span className="dot" aria-hidden="true" />
      {labels[store.connection]}
    </span>
  );
}

/** How often the ticket asks again when the trading day closes next (and at once after that close has passed). */
const tradingDayRefreshMs = 5 * 60_000;

/** The next close of the trading day (GET /api/v1/trading-day), kept fresh: when DAY orders expire. Null when unknown or none. */
function useNextClose(session: Session): string | null {
  const [nextCloseAt, setNextCloseAt] = useState<string | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = async (): Promise<void> => {
      let next: string | null = null;
      try {
        const answer = await session.get<{ nextCloseAt?: unknown }>("/api/v1/trading-day");
        next = typeof answer.nextCloseAt === "string" && Number.isFinite(Date.parse(answer.nextCloseAt)) ? answer.nextCloseAt : null;
      } catch {
        // Only a hint on the ticket: without it, the ticket says nothing about the close.
      }
      if (stopped) return;
      setNextCloseAt(next);
      // Again after the close has passed (the next one is then another day), and every few minutes meanwhile.
      const untilClose = next === null ? tradingDayRefreshMs : Date.parse(next) - Date.now() + 1_000;
      timer = setTimeout(() => void load(), Math.max(1_000, Math.min(tradingDayRefreshMs, untilClose)));
    };
    void load();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
  }, [session]);
  return nextCloseAt;
}

function TradeScreen(): ReactElement {
  const app = useApp();
  const store = useLive();
  const { symbol, user, accountId } = app;
  const instrument = store.instruments.get(symbol);
  const ticker = store.tickers.get(symbol);
  const quantityRef = useRef<HTMLInputElement>(null);
  const dayClosesAt = useNextClose(app.session);
  const isTrader = user.roles.includes("trader");

  const send = useCallback(
    async (body: Record<string, unknown>) => {
      const answer = await app.session.post<{ order: Order; fills: Fill[] }>("/api/v1/orders", body);
      store.upsertOrder(answer.order);
      store.flush();
      return answer;
    },
    [app.session, store],
  );

  if (instrument === undefined) return <p className="muted">Loading markets…</p>;
  const cash = accountId === null ? undefined : store.balances.get(`${String(accountId)}:${instrument.currency}`);
  const position = accountId === null ? undefined : store.positions.get(`${String(accountId)}:${symbol}`);
  const market: TicketMarket = {
    instrument,
    state: ticker?.state ?? instrument.state,
    referencePrice: ticker?.referencePrice ?? instrument.referencePrice,
    bestBid: ticker?.bestBid ?? null,
    bestAsk: ticker?.bestAsk ?? null,
    availableCash: cash?.available ?? (accountId === null ? null : "0"),
    availablePosition: position?.available ?? (accountId === null ? null : "0"),
  };
  return (
    <div className={`trade-grid${isTrader ? "" : " no-ticket"}`}>
      <Watchlist />
      <div className="center">
        <Suspense fallback={<section className="panel chart">Loading chart…</section>}>
          <Chart />
        </Suspense>
        <div className="book-tape">
          <Ladder />
          <Tape />
        </div>
      </div>
      {isTrader && (
        // Keyed by account: a switch starts the ticket's outcome afresh (the draft stays).
        <Ticket key={accountId ?? "none"} market={market} draft={app.draft} onDraft={app.setDraft} send={send} accountId={accountId} showAccount={user.accountIds.length > 1} quantityRef={quantityRef} dayClosesAt={dayClosesAt} />
      )}
      {(isTrader || accountId !== null) && <Blotter />}
    </div>
  );
}

function Shell(props: { config: DashboardConfig; session: Session; user: User; onSignOut: () => void }): ReactElement {
  const { config, session, user } = props;
  const store = useMemo(() => new Store(config.refreshRate), [config.refreshRate]);
  const feed = useMemo(() => new LiveFeed(wsUrl(config.apiUrl, location), store, async (renew) => {
        // A refused refresh ends the session (the sign-in dialog appears) and leaves no token.
        if (renew) await session.refresh();
        return session.freshToken();
      }), [config.apiUrl, store, session]);
  const [symbol, setSymbol] = useState<string>(() => sessionStorage.getItem(symbolKey) ?? "");
  const [draft, setDraftState] = useState<TicketDraft>(savedDraft);
  const [view, setView] = useState<View>("trade");
  const [error, setError] = useState<string | null>(null);
  const [enrol, setEnrol] = useState(false);
  const sessionState = useSyncExternalStore(
    (listener) => session.subscribe(listener),
    () => session.state,
  );
  const [accountId, setAccountId] = useState<number | null>(() => initialAccount(user));
  const nav = navFor(user.roles);

  const setDraft = useCallback((update: (draft: TicketDraft) => TicketDraft) => {
    setDraftState((current) => {
      const next = update(current);
      try {
        sessionStorage.setItem(draftKey, JSON.stringify(next));
      } catch {
        // The draft then lives as long as the page.
      }
      return next;
    });
  }, []);
  const focusTicket = useCallback(() => {
    const input = document.querySelector<HTMLInputElement>(".ticket input[name=quantity]");
    input?.focus();
    input?.select();
  }, []);
  const selectAccount = useCallback(
    (next: number) => {
      // Empty the previous account's figures before the next paint, not after the effect below.
      store.setAccount(next);
      store.flush();
      rememberAccount(user.userId, next);
      setAccountId(next);
    },
    [store, user.userId],
  );
  const selectSymbol = useCallback((next: string) => {
    setSymbol(next);
    sessionStorage.setItem(symbolKey, next);
  }, []);

  // Start-up: reference data and the public live channels.
  useEffect(() => {
    store.start();
    feed.start();
    let cancelled = false;
    const load = async (): Promise<void> => {
      const markets = await session.get<{ items: Instrument[] }>("/api/v1/markets");
      if (cancelled) return;
      store.setInstruments(markets.items);
      for (const item of markets.items) feed.subscribe({ channel: "ticker", symbol: item.symbol });
      setSymbol((current) => (current !== "" && markets.items.some((item) => item.symbol === current) ? current : (markets.items[0]?.symbol ?? "")));
      store.flush();
    };
    load().catch((caught: unknown) => setError(caught instanceof ApiError ? `${caught.message} (${caught.code})` : "The platform could not be reached."));
    return () => {
      cancelled = true;
      feed.stop();
      store.stop();
    };
  }, [store, feed, session]);

  // The trading account: its private channels and the blotter's history. A switch
  // unsubscribes the previous account's channels before subscribing the next one's;
  // the store drops anything of the previous account that still arrives.
  useEffect(() => {
    if (accountId === null) return;
    store.setAccount(accountId);
    const subscriptions = accountSubscriptions(accountId);
    for (const subscription of subscriptions) feed.subscribe(subscription);
    let cancelled = false;
    const paths = accountHistoryPaths(accountId);
    Promise.all([session.get<{ items: Order[] }>(paths.orders), session.get<{ items: Fill[] }>(paths.fills)])
      .then(([orders, fills]) => {
        if (cancelled) return;
        store.setOrders(orders.items);
        store.setFills(fills.items);
        store.flush();
      })
      .catch((caught: unknown) => {
        if (!cancelled) setError(caught instanceof ApiError ? `${caught.message} (${caught.code})` : "The platform could not be reached.");
      });
    return () => {
      cancelled = true;
      for (const subscription of subscriptions) feed.unsubscribe(subscription);
    };
  }, [store, feed, session, accountId]);

  // The selected instrument's book and trades.
  useEffect(() => {
    if (symbol === "") return;
    const book = { channel: "book", symbol, depth: 50 };
    const trades = { channel: "trades", symbol };
    feed.subscribe(book);
    feed.subscribe(trades);
    session
      .get<{ items: PublicTrade[] }>(`/api/v1/markets/${encodeURIComponent(symbol)}/trades?limit=40`)
      .then((answer) => store.setTrades(symbol, answer.items))
      .catch(() => undefined);
    return () => {
      feed.unsubscribe(book);
      feed.unsubscribe(trades);
    };
  }, [symbol, feed, session, store]);

  // Keyboard: B / S pick the side and go to the quantity, Esc clears the ticket.
  useEffect(() => {
    const onKey = (event: KeyboardEvent): void => {
      if (view !== "trade" || event.ctrlKey || event.metaKey || event.altKey) return;
      const target = event.target as HTMLElement | null;
      const typing = target !== null && (target.tagName === "INPUT" || target.tagName === "SELECT" || target.tagName === "TEXTAREA");
      if (typing) return;
      const key = event.key.toLowerCase();
      if (key === "b" || key === "s") {
        event.preventDefault();
        setDraft((current) => ({ ...current, side: key === "b" ? "buy" : "sell" }));
        focusTicket();
      } else if (event.key === "Escape") {
        setDraft((current) => ({ ...emptyDraft, side: current.side }));
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [view, setDraft, focusTicket]);

  const state: AppState = { config, session, store, feed, user, accountId, symbol, selectSymbol, draft, setDraft, focusTicket };

  return (
    <AppContext.Provider value={state}>
      <a className="skip" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <span className="brand">TradeStream</span>
        <nav aria-label="Main">
          <ul>
            {nav.map((item) => (
              <li key={item.view}>
                <button type="button" aria-current={view === item.view ? "page" : undefined} onClick={() => setView(item.view)}>
                  {item.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
        <ConnectionBadge />
        <span className="user" title={user.roles.join(", ")}>
          {user.displayName} <span className="muted">({user.roles.join(", ")}{accountId === null || user.accountIds.length > 1 ? "" : ` · account ${String(accountId)}`})</span>
        </span>
        <AccountPicker accountIds={user.accountIds} accountId={accountId} onSelect={selectAccount} />
        {!user.mfaEnrolled && (
          <button type="button" onClick={() => setEnrol(true)}>
            Set up two-factor
          </button>
        )}
        <button type="button" onClick={props.onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {error !== null && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        {view === "trade" && <TradeScreen />}
        {view === "orders" && <AllOrders />}
        {view === "audit" && <AuditTrail />}
        {view === "ledger" && <Ledger />}
        {view === "ops" && <Operations />}
        {view === "users" && <Users />}
        {view === "controls" && <Controls />}
      </main>
      {sessionState === "expired" && (
        <div className="overlay" role="dialog" aria-modal="true" aria-label="Sign in again">
          <SignIn config={config} session={session} username={user.username} expired onSignedIn={() => feed.restart()} />
        </div>
      )}
      {enrol && (
        <div className="overlay" role="dialog" aria-modal="true" aria-label="Set up two-factor sign-in">
          <Enrol session={session} onDone={() => setEnrol(false)} />
        </div>
      )}
    </AppContext.Provider>
  );
}

export function App(props: { config: DashboardConfig }): ReactElement {
  const session = useMemo(() => new Session(props.config.apiUrl), [props.config.apiUrl]);
  const [user, setUser] = useState<User | null>(null);
  const [phase, setPhase] = useState<"starting" | "signin" | "app">("starting");
  const [offerEnrol, setOfferEnrol] = useState(false);

  const loadUser = useCallback(async () => {
    try {
      const me = await session.get<User & { sso?: boolean }>("/api/v1/auth/me");
      session.user = me;
      setUser(me);
      setOfferEnrol(!me.mfaEnrolled && me.sso !== true);
      setPhase("app");
    } catch {
      session.clear("signed_out");
      setPhase("signin");
    }
  }, [session]);

  useEffect(() => {
    const params = new URLSearchParams(location.search);
    if (params.get("sso") === "done") {
      // Back from the identity provider: collect the tokens the callback left for this page, then tidy the address.
      history.replaceState(null, "", "/");
      session
        .anonymous<{ accessToken: string; refreshToken: string; expiresIn: number }>("POST", "/api/v1/auth/sso/session", {})
        .then((answer) => {
          session.accept(answer);
          return loadUser();
        })
        .catch(() => setPhase("signin"));
      return;
    }
    if (session.restore()) void loadUser();
    else setPhase("signin");
  }, [session, loadUser]);

  if (phase === "starting") return <p className="muted center-screen">Starting…</p>;
  if (phase === "signin" || user === null) {
    return (
      <main className="center-screen">
        <SignIn config={props.config} session={session} onSignedIn={() => void loadUser()} />
      </main>
    );
  }
  if (offerEnrol) {
    return (
      <main className="center-screen">
        <Enrol
          session={session}
          onDone={() => {
            setOfferEnrol(false);
            void loadUser();
          }}
        />
      </main>
    );
  }
  return (
    <Shell
      key={user.userId}
      config={props.config}
      session={session}
      user={user}
      onSignOut={() => {
        void session.signOut().then(() => {
          setUser(null);
          setPhase("signin");
        });
      }}
    />
  );
}
