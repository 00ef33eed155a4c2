/**
 * The trader's own watchlist: which instruments the Markets panel shows and in
 * what order, remembered in localStorage per user. Until the user changes it,
 * the list is every instrument (alphabetical the first time), and an instrument
 * the platform lists later joins at the end. Once the user adds, removes or
 * moves one, the list is theirs: a new instrument is only offered under "Add".
 * "Reset" forgets the choice and shows every instrument again.
 */

export const watchlistKeyPrefix = "tradestream.watchlist.";

export const watchlistKey = (userId: number): string => `${watchlistKeyPrefix}${String(userId)}`;

/** What is stored: the symbols in order, and whether the user chose them. */
export interface SavedWatchlist {
  readonly symbols: readonly string[];
  readonly customised: boolean;
}

function isSaved(value: unknown): value is SavedWatchlist {
  if (typeof value !== "object" || value === null) return false;
  const { symbols, customised } = value as Record<string, unknown>;
  return Array.isArray(symbols) && symbols.every((symbol) => typeof symbol === "string") && typeof customised === "boolean";
}

/** The user's saved watchlist, or null when there is none (or storage is unavailable or holds junk). */
export function loadWatchlist(userId: number): SavedWatchlist | null {
  try {
    const text = localStorage.getItem(watchlistKey(userId));
    if (text === null) return null;
    const parsed: unknown = JSON.parse(text);
    return isSaved(parsed) ? { symbols: [...new Set(parsed.symbols)], customised: parsed.customised } : null;
  } catch {
    return null;
  }
}

/** Saves the watchlist; null forgets it (after a reset). */
export function saveWatchlist(userId: number, saved: SavedWatchlist | null): void {
  try {
    if (saved === null) localStorage.removeItem(watchlistKey(userId));
    else localStorage.setItem(watchlistKey(userId), JSON.stringify(saved));
  } catch {
    // Without storage the choice lasts as long as the page.
  }
}

/**
 * The symbols to show, in order, given those the platform lists. Symbols no
 * longer listed are hidden; listed ones not in the saved list are appended
 * (alphabetically) only while the list is not customised.
 */
export function visibleSymbols(saved: SavedWatchlist | null, listed: readonly string[]): string[] {
  const available = new Set(listed);
  const kept = (saved?.symbols ?? []).filter((symbol) => available.has(symbol));
  if (saved?.customised === true) return kept;
  const known = new Set(kept);
  return [...kept, ...[...listed].filter((symbol) => !known.has(symbol)).sort()];
}

/** Listed symbols not shown: what "Add" offers, alphabetically. */
export function addableSymbols(shown: readonly string[], listed: readonly string[]): string[] {
  const visible = new Set(shown);
  return [...new Set(listed)].filter((symbol) => !visible.has(symbol)).sort();
}

/** Appends a symbol (no-op when already shown). */
export function addSymbol(shown: readonly string[], symbol: string): SavedWatchlist {
  return { symbols: shown.includes(symbol) ? [...shown] : [...shown, symbol], customised: true };
}

export function removeSymbol(shown: readonly string[], symbol: string): SavedWatchlist {
  return { symbols: shown.filter((item) => item !== symbol), customised: true };
}

/** Moves a symbol one place up (-1) or down (+1); no-op at either end. */
export function moveSymbol(shown: readonly string[], symbol: string, by: -1 | 1): SavedWatchlist {
  const symbols = [...shown];
  const from = symbols.indexOf(symbol);
  const to = from + by;
  const other = symbols[to];
  if (from >= 0 && other !== undefined) {
    symbols[to] = symbol;
    symbols[from] = other;
  }
  return { symbols, customised: true };
}
