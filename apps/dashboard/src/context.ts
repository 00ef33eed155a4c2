/** What every screen shares: configuration, session, live store and feed, the user, the selected instrument and the ticket. */
import { createContext, useContext, useSyncExternalStore } from "react";
import type { Session } from "./api.ts";
import type { DashboardConfig } from "./config.ts";
import type { LiveFeed } from "./live.ts";
import type { Store } from "./store.ts";
import type { TicketDraft } from "./ticket.ts";
import type { User } from "./types.ts";

export interface AppState {
  readonly config: DashboardConfig;
  readonly session: Session;
  readonly store: Store;
  readonly feed: LiveFeed;
  readonly user: User;
  /** The trading account orders are placed on (null for staff without one). */
  readonly accountId: number | null;
  readonly symbol: string;
  readonly selectSymbol: (symbol: string) => void;
  readonly draft: TicketDraft;
  readonly setDraft: (update: (draft: TicketDraft) => TicketDraft) => void;
  /** Moves focus to the ticket's quantity (after B/S or a click on the ladder). */
  readonly focusTicket: () => void;
}

export const AppContext = createContext<AppState | null>(null);

export function useApp(): AppState {
  const app = useContext(AppContext);
  if (app === null) throw new Error("useApp outside the signed-in app");
  return app;
}

/** Re-renders the caller once per repaint batch of the live store. */
export function useLive(): Store {
  const { store } = useApp();
  useSyncExternalStore(store.subscribe, store.getVersion);
  return store;
}
