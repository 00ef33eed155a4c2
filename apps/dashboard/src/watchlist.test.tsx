// @vitest-environment jsdom
/**
 * The customisable watchlist: which instruments it shows and in what order,
 * per user in localStorage; add, remove, move up/down (buttons, keyboard
 * reachable, focus kept, changes announced), reset; a newly listed instrument
 * joins at the end only while the user has not customised the list.
 */
import { act, cleanup, fireEvent, render, screen, within } from "@testing-library/react";
import { useState, type ReactElement } from "react";
import { afterEach, describe, expect, it } from "vitest";
import { Watchlist } from "./components/Market.tsx";
import { AppContext, type AppState } from "./context.ts";
import { Store } from "./store.ts";
import { testInstrument } from "./test-support.ts";
import type { Instrument, User } from "./types.ts";
import { addableSymbols, addSymbol, loadWatchlist, moveSymbol, removeSymbol, saveWatchlist, visibleSymbols, watchlistKey } from "./watchlist.ts";

const instrument = (symbol: string): Instrument => testInstrument({ symbol, instrumentId: symbol.charCodeAt(0) });

const user = (userId: number): User => ({ userId, username: `u${String(userId)}`, displayName: "Trader", groups: ["authorized-traders"], accountIds: [1001], mfaEnrolled: true, roles: ["trader"] });

function storeWith(...symbols: string[]): Store {
  const store = new Store(500);
  store.setInstruments(symbols.map(instrument));
  store.flush();
  return store;
}

/** The watchlist inside just enough of the app: the store, the user, the selected symbol. */
function Harness(props: { store: Store; userId: number }): ReactElement {
  const [symbol, selectSymbol] = useState("SAP");
  const app = { store: props.store, user: user(props.userId), symbol, selectSymbol } as unknown as AppState;
  return (
    <AppContext.Provider value={app}>
      <Watchlist />
      <p data-testid="selected">{symbol}</p>
    </AppContext.Provider>
  );
}

const shownSymbols = (): string[] =>
  within(screen.getByRole("table"))
    .getAllByRole("rowheader")
    .map((cell) => within(cell).getAllByRole("button")[0]?.textContent ?? "");

const edit = (): void => {
  fireEvent.click(screen.getByRole("button", { name: "Edit list" }));
};

afterEach(() => {
  cleanup();
  localStorage.clear();
});

describe("watchlist logic", () => {
  it("shows every listed instrument alphabetically when nothing is saved", () => {
    expect(visibleSymbols(null, ["SIE", "ALV", "SAP"])).toEqual(["ALV", "SAP", "SIE"]);
  });

  it("appends a newly listed instrument at the end only while the list is not customised", () => {
    const seen = { symbols: ["SAP", "SIE"], customised: false };
    expect(visibleSymbols(seen, ["ALV", "SAP", "SIE"])).toEqual(["SAP", "SIE", "ALV"]);
    const chosen = { symbols: ["SIE", "SAP"], customised: true };
    expect(visibleSymbols(chosen, ["ALV", "SAP", "SIE"])).toEqual(["SIE", "SAP"]);
    expect(addableSymbols(["SIE", "SAP"], ["SIE", "SAP", "DTE", "ALV"])).toEqual(["ALV", "DTE"]);
  });

  it("hides symbols the platform no longer lists", () => {
    expect(visibleSymbols({ symbols: ["SAP", "OLD", "SIE"], customised: true }, ["SAP", "SIE"])).toEqual(["SAP", "SIE"]);
  });

  it("adds at the end, removes, and moves one place, doing nothing at either end", () => {
    expect(addSymbol(["SAP"], "SIE")).toEqual({ symbols: ["SAP", "SIE"], customised: true });
    expect(addSymbol(["SAP"], "SAP").symbols).toEqual(["SAP"]);
    expect(removeSymbol(["SAP", "SIE"], "SAP")).toEqual({ symbols: ["SIE"], customised: true });
    expect(moveSymbol(["A", "B", "C"], "C", -1).symbols).toEqual(["A", "C", "B"]);
    expect(moveSymbol(["A", "B", "C"], "A", 1).symbols).toEqual(["B", "A", "C"]);
    expect(moveSymbol(["A", "B", "C"], "A", -1).symbols).toEqual(["A", "B", "C"]);
    expect(moveSymbol(["A", "B", "C"], "C", 1).symbols).toEqual(["A", "B", "C"]);
  });

  it("stores per user and ignores junk", () => {
    saveWatchlist(7, { symbols: ["SIE"], customised: true });
    expect(localStorage.getItem(watchlistKey(7))).toBe('{"symbols":["SIE"],"customised":true}');
    expect(loadWatchlist(7)).toEqual({ symbols: ["SIE"], customised: true });
    expect(loadWatchlist(8)).toBeNull();
    localStorage.setItem(watchlistKey(8), "{not json");
    expect(loadWatchlist(8)).toBeNull();
    localStorage.setItem(watchlistKey(8), '{"symbols":[1],"customised":true}');
    expect(loadWatchlist(8)).toBeNull();
    saveWatchlist(7, null);
    expect(localStorage.getItem(watchlistKey(7))).toBeNull();
  });
});

describe("watchlist panel", () => {
  it("shows every instrument until customised, and a click still selects the instrument", () => {
    render(<Harness store={storeWith("SIE", "SAP", "ALV")} userId={7} />);
    expect(shownSymbols()).toEqual(["ALV", "SAP", "SIE"]);
    fireEvent.click(screen.getByRole("button", { name: "SIE" }));
    expect(screen.getByTestId("selected").textContent).toBe("SIE");
    expect(screen.getByRole("button", { name: "SIE" }).getAttribute("aria-current")).toBe("true");
    // No editing controls until asked for.
    expect(screen.queryByRole("button", { name: /^Move/ })).toBeNull();
    expect(screen.getByRole("button", { name: "Edit list" }).getAttribute("aria-pressed")).toBe("false");
  });

  it("moves an instrument with buttons, keeps focus on the moved control, announces and persists", () => {
    render(<Harness store={storeWith("ALV", "SAP", "SIE")} userId={7} />);
    edit();
    expect(screen.getByRole("button", { name: "Edit list" }).getAttribute("aria-pressed")).toBe("true");
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Move ALV up" }).disabled).toBe(true);
    expect(screen.getByRole<HTMLButtonElement>("button", { name: "Move SIE down" }).disabled).toBe(true);

    const up = screen.getByRole("button", { name: "Move SIE up" });
    up.focus();
    fireEvent.click(up);
    expect(shownSymbols()).toEqual(["ALV", "SIE", "SAP"]);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Move SIE up" }));
    expect(screen.getByRole("status").textContent).toBe("SIE moved up, now 2 of 3.");

    // At the top the up button is disabled: focus goes to the same row's down button.
    fireEvent.click(screen.getByRole("button", { name: "Move SIE up" }));
    expect(shownSymbols()).toEqual(["SIE", "ALV", "SAP"]);
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Move SIE down" }));

    fireEvent.click(screen.getByRole("button", { name: "Move ALV down" }));
    expect(shownSymbols()).toEqual(["SIE", "SAP", "ALV"]);
    expect(loadWatchlist(7)).toEqual({ symbols: ["SIE", "SAP", "ALV"], customised: true });

    // Another render (a reload) comes back in the same order; another user is unaffected.
    cleanup();
    render(<Harness store={storeWith("ALV", "SAP", "SIE")} userId={7} />);
    expect(shownSymbols()).toEqual(["SIE", "SAP", "ALV"]);
    cleanup();
    render(<Harness store={storeWith("ALV", "SAP", "SIE")} userId={8} />);
    expect(shownSymbols()).toEqual(["ALV", "SAP", "SIE"]);
  });

  it("removes and adds instruments, then resets to all", () => {
    render(<Harness store={storeWith("ALV", "SAP", "SIE")} userId={7} />);
    edit();
    fireEvent.click(screen.getByRole("button", { name: "Remove SAP from the watchlist" }));
    expect(shownSymbols()).toEqual(["ALV", "SIE"]);
    expect(screen.getByRole("status").textContent).toBe("SAP removed from the watchlist.");
    // Focus moves to the next row's remove button.
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Remove SIE from the watchlist" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove ALV from the watchlist" }));
    expect(shownSymbols()).toEqual(["SIE"]);

    const add = screen.getByLabelText<HTMLSelectElement>("Add instrument");
    expect(within(add).getAllByRole("option").map((option) => option.textContent)).toEqual(["ALV", "SAP"]);
    fireEvent.change(add, { target: { value: "SAP" } });
    fireEvent.click(screen.getByRole("button", { name: "Add" }));
    expect(shownSymbols()).toEqual(["SIE", "SAP"]);
    expect(screen.getByRole("status").textContent).toBe("SAP added to the end of the watchlist.");
    expect(loadWatchlist(7)).toEqual({ symbols: ["SIE", "SAP"], customised: true });

    // Removing the last one leaves a helpful empty table, not a broken one.
    fireEvent.click(screen.getByRole("button", { name: "Remove SIE from the watchlist" }));
    fireEvent.click(screen.getByRole("button", { name: "Remove SAP from the watchlist" }));
    expect(screen.getByText(/No instruments on your watchlist/)).toBeDefined();
    expect(document.activeElement).toBe(screen.getByLabelText("Add instrument"));

    fireEvent.click(screen.getByRole("button", { name: "Reset watchlist" }));
    expect(shownSymbols()).toEqual(["ALV", "SAP", "SIE"]);
    expect(screen.getByRole("status").textContent).toBe("Watchlist reset: showing all 3 instruments.");
    expect(loadWatchlist(7)?.customised).toBe(false);
  });

  it("puts a newly listed instrument at the end of an untouched list, and only offers it for a customised one", () => {
    const store = storeWith("SAP", "SIE");
    render(<Harness store={store} userId={7} />);
    expect(shownSymbols()).toEqual(["SAP", "SIE"]);
    act(() => {
      store.setInstruments([instrument("ALV")]);
      store.flush();
    });
    expect(shownSymbols()).toEqual(["SAP", "SIE", "ALV"]);

    cleanup();
    localStorage.clear();
    const other = storeWith("SAP", "SIE");
    render(<Harness store={other} userId={7} />);
    edit();
    fireEvent.click(screen.getByRole("button", { name: "Move SIE up" }));
    act(() => {
      other.setInstruments([instrument("ALV")]);
      other.flush();
    });
    expect(shownSymbols()).toEqual(["SIE", "SAP"]);
    expect(within(screen.getByLabelText("Add instrument")).getAllByRole("option").map((option) => option.textContent)).toEqual(["ALV"]);
  });
});
