/**
 * Differential properties: the production `FastBook` and the naive
 * `ReferenceBook` must be indistinguishable. Directly, under random book
 * operations over many levels (deep cancels leave emptied levels behind, which
 * the fast book must skip and compact), every query answers the same after
 * every operation. Through the engine, the same generated stream applied to an
 * engine on each book gives deep-equal events for every command and final
 * states that snapshot to the same bytes.
 *
 * A stream failure is reported minimized; see property-parameters.ts to replay it or run more cases.
 */
import { isDeepStrictEqual } from "node:util";
import type { EngineEvent, Side } from "@tradestream/contracts";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CashSlot, PositionSlot } from "./account.ts";
import { FastBook, type OrderBook, ReferenceBook } from "./book.ts";
import { Engine } from "./engine.ts";
import { type GeneratedStream, type StreamFailure, describeFailure, materialize, streamCaseArbitrary } from "./generators.ts";
import { Order } from "./order.ts";
import { minimizeDeadline, propertyParameters } from "./property-parameters.ts";
import { encodeSnapshot } from "./snapshot.ts";


/** Runs the stream on both books: the first command whose events differ (or that throws), or differing final states. */
function compareBooks(stream: GeneratedStream): StreamFailure | null {
  const fast = new Engine();
  const reference = new Engine({ bookFactory: (id) => new ReferenceBook(id) });
  for (let index = 0; index < stream.commands.length; index += 1) {
    const command = stream.commands[index];
    if (command === undefined) break;
    let fastEvents: EngineEvent[];
    let referenceEvents: EngineEvent[];
    try {
      fastEvents = fast.apply(command);
      referenceEvents = reference.apply(command);
    } catch (error) {
      return { commandIndex: index, message: `an engine threw ${String(error)}` };
    }
    if (!isDeepStrictEqual(fastEvents, referenceEvents)) {
      return { commandIndex: index, message: `events differ\nFastBook:      ${JSON.stringify(fastEvents)}\nReferenceBook: ${JSON.stringify(referenceEvents)}` };
    }
  }
  const text = new TextDecoder();
  if (text.decode(encodeSnapshot(fast)) !== text.decode(encodeSnapshot(reference))) {
    return { commandIndex: stream.commands.length - 1, message: "final snapshots differ" };
  }
  return null;
}

type BookOp =
  | { readonly kind: "insert"; readonly side: Side; readonly distance: number; readonly visible: number }
  | { readonly kind: "remove" | "moveToBack"; readonly pick: number }
  /** Removes the order farthest from the top of a side: empties levels deep in the book while the top stays. */
  | { readonly kind: "removeDeepest"; readonly side: Side }
  | { readonly kind: "changeVisible"; readonly pick: number; readonly delta: number };

const bookOpArb: fc.Arbitrary<BookOp> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ kind: fc.constant("insert" as const), side: fc.constantFrom<Side>("buy", "sell"), distance: fc.nat({ max: 80 }), visible: fc.integer({ min: 1, max: 50 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constantFrom("remove" as const, "moveToBack" as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("changeVisible" as const), pick: fc.nat(), delta: fc.integer({ min: -49, max: 20 }) }) },
);

/** One side of the differential: a book and its own copies of the orders (books write into orders). */
class BookUnderTest {
  readonly orders = new Map<number, Order>();
  private readonly cash = new CashSlot(1, "EUR");
  private readonly position = new PositionSlot(1, 1);

  constructor(readonly book: OrderBook) {}

  insert(id: number, side: Side, price: number, visible: number, priority: number): void {
    const order = new Order().open(id, 1, 1, `o${id}`, side, "limit", "GTC", price, 0, visible, visible, 0, false, 0, 0, 0, this.cash, this.position);
    order.visible = visible;
    order.priority = priority;
    this.orders.set(id, order);
    this.book.insert(order);
  }

  /**
   * What the engine can ask the book, as plain data: the order and level
   * sequences every time; `nextAfter` and `levelAt` for every order and level
   * (quadratic on the naive book) only when `full`.
   */
  view(full: boolean): unknown {
    const sides = (["buy", "sell"] as Side[]).map((side) => {
      const ids: number[] = [];
      this.book.forEach(side, (order) => ids.push(order.id));
      const levels = this.book.levels(side);
      const best = this.book.best(side);
      const detail = full
        ? {
            next: ids.map((id) => {
              const order = this.orders.get(id);
              return order === undefined ? -1 : (this.book.nextAfter(order)?.id ?? null);
            }),
            levelAt: levels.map((level) => this.book.levelAt(side, level.price)),
          }
        : { next: best === null ? null : (this.book.nextAfter(best)?.id ?? null) };
      return {
        best: best?.id ?? null,
        ids,
        levels,
        ...detail,
        gaps: [0, 1, 2, 3].map((offset) => this.book.levelAt(side, 10_000 + (side === "buy" ? -offset : offset))),
      };
    });
    return { size: this.book.size, sides };
  }
}

describe("FastBook against ReferenceBook", () => {
  it("answer every query alike under random book operations", () => {
    fc.assert(
      fc.property(fc.array(bookOpArb, { minLength: 1, maxLength: 400, size: "max" }), fc.array(fc.nat(), { minLength: 1, maxLength: 50 }), (build, drainPicks) => {
        const fast = new BookUnderTest(new FastBook(1));
        const reference = new BookUnderTest(new ReferenceBook(1));
        let nextId = 1;
        let priority = 0;
        // Build a book, empty it in a random order (levels empty deep in the book), and do it again on the same books.
        const drain = Array.from({ length: build.length }, (_, i): BookOp => {
          const pick = drainPicks[i % drainPicks.length] ?? 0;
          return pick % 3 === 0 ? { kind: "remove", pick } : { kind: "removeDeepest", side: pick % 3 === 1 ? "buy" : "sell" };
        });
        const ops = [...build, ...drain, ...build, ...drain];
        ops.forEach((op, index) => {
          const resting = [...fast.orders.keys()];
          let id = 0;
          if (op.kind === "removeDeepest") fast.book.forEach(op.side, (order) => (id = order.id));
          else if (op.kind !== "insert" && resting.length > 0) id = resting[op.pick % resting.length] ?? 0;
          for (const side of [fast, reference]) {
            const order = side.orders.get(id);
            switch (op.kind) {
              case "insert": {
                // Bids below and asks above 10 000, so the book never crosses.
                const price = 10_000 + (op.side === "buy" ? -op.distance : op.distance + 1);
                side.insert(nextId, op.side, price, op.visible, priority + 1);
                break;
              }
              case "remove":
              case "removeDeepest":
                if (order !== undefined) {
                  side.book.remove(order);
                  side.orders.delete(id);
                }
                break;
              case "moveToBack":
                if (order !== undefined) {
                  order.priority = priority + 1;
                  side.book.moveToBack(order);
                }
                break;
              case "changeVisible":
                if (order !== undefined && order.visible + op.delta > 0) side.book.changeVisible(order, op.delta);
                break;
            }
          }
          if (op.kind === "insert") nextId += 1;
          priority += 1;
          const full = index % 16 === 0 || index === ops.length - 1;
          expect(fast.view(full), `after operation #${index} ${JSON.stringify(op)}`).toEqual(reference.view(full));
        });
      }),
      propertyParameters(30),
    );
  });

  it("give identical events for every command and identical final state", () => {
    fc.assert(
      fc.property(streamCaseArbitrary(), (streamCase) => {
        if (compareBooks(materialize(streamCase)) !== null) throw new Error(describeFailure(streamCase, compareBooks, { shouldStop: minimizeDeadline() }));
      }),
      propertyParameters(24),
    );
  });
});
