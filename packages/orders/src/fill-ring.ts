/**
 * The kept fills, by their sequence numbers, as columns of typed arrays used as a ring.
 * A full read model keeps a million fills; as objects they were a million small records
 * on the collector's heap, which every major collection marked (about half of the read
 * models' marking work). Their fields are all numbers or one of two words, so here they
 * live in array buffers outside the heap, and a `Fill` object is made only when one is
 * read (a page of an API answer). Fills arrive with consecutive sequence numbers and
 * leave oldest first, as the read model keeps them.
 *
 * A snapshot reads the ring's own buffers through a `FillView` taken at its point, while
 * fills go on arriving and leaving: the ring never writes over a slot a view still reads.
 * Dropping a fill touches no buffer, and a new fill goes to the slot of the fill a whole
 * ring before it; when that fill is one a view holds, the ring moves to buffers twice the
 * size instead (the view keeps the old ones). Until a view is released, that costs at
 * most one such move per view.
 */
import type { Side } from "@tradestream/contracts";
import { InvariantError } from "@tradestream/kernel";
import type { Fill } from "./types.ts";

const sides: readonly Side[] = ["buy", "sell"];
const liquidities: ReadonlyArray<Fill["liquidity"]> = ["maker", "taker"];

/** Fills as columns, by slot. */
export class FillColumns {
  readonly tradeIds: Float64Array;
  readonly orderIds: Float64Array;
  readonly accountIds: Float64Array;
  readonly instrumentIds: Float64Array;
  readonly prices: Float64Array;
  readonly quantities: Float64Array;
  readonly notionals: Float64Array;
  readonly fees: Float64Array;
  readonly times: Float64Array;
  /** Side (0 buy, 1 sell) in bit 0, liquidity (0 maker, 1 taker) in bit 1. */
  readonly flags: Uint8Array;

  constructor(readonly length: number) {
    // One buffer for all the columns: one allocation for the collector to account, not ten.
    const buffer = new ArrayBuffer(length * (9 * 8 + 1));
    const column = (k: number): Float64Array => new Float64Array(buffer, k * 8 * length, length);
    this.tradeIds = column(0);
    this.orderIds = column(1);
    this.accountIds = column(2);
    this.instrumentIds = column(3);
    this.prices = column(4);
    this.quantities = column(5);
    this.notionals = column(6);
    this.fees = column(7);
    this.times = column(8);
    this.flags = new Uint8Array(buffer, 9 * 8 * length, length);
  }

  set(i: number, fill: Fill): void {
    this.tradeIds[i] = fill.tradeId;
    this.orderIds[i] = fill.orderId;
    this.accountIds[i] = fill.accountId;
    this.instrumentIds[i] = fill.instrumentId;
    this.prices[i] = fill.priceTicks;
    this.quantities[i] = fill.qtyLots;
    this.notionals[i] = fill.notionalMinor;
    this.fees[i] = fill.feeMinor;
    this.times[i] = fill.tsUs;
    this.flags[i] = (fill.side === "buy" ? 0 : 1) | (fill.liquidity === "maker" ? 0 : 2);
  }

  /** Slot `j` of `from` into slot `i`. */
  copy(i: number, from: FillColumns, j: number): void {
    this.tradeIds[i] = from.tradeIds[j] as number;
    this.orderIds[i] = from.orderIds[j] as number;
    this.accountIds[i] = from.accountIds[j] as number;
    this.instrumentIds[i] = from.instrumentIds[j] as number;
    this.prices[i] = from.prices[j] as number;
    this.quantities[i] = from.quantities[j] as number;
    this.notionals[i] = from.notionals[j] as number;
    this.fees[i] = from.fees[j] as number;
    this.times[i] = from.times[j] as number;
    this.flags[i] = from.flags[j] as number;
  }

  side(i: number): Side {
    return sides[(this.flags[i] as number) & 1] as Side;
  }

  liquidity(i: number): Fill["liquidity"] {
    return liquidities[((this.flags[i] as number) >> 1) & 1] as Fill["liquidity"];
  }

  /** Slot `i` as a new record, its fields in the order the read model's records have them. */
  get(i: number): Fill {
    return {
      tradeId: this.tradeIds[i] as number,
      orderId: this.orderIds[i] as number,
      accountId: this.accountIds[i] as number,
      instrumentId: this.instrumentIds[i] as number,
      side: this.side(i),
      priceTicks: this.prices[i] as number,
      qtyLots: this.quantities[i] as number,
      notionalMinor: this.notionals[i] as number,
      feeMinor: this.fees[i] as number,
      liquidity: this.liquidity(i),
      tsUs: this.times[i] as number,
    };
  }
}

/** The fills a ring kept at one point, read from the ring's buffers of then: fill `i` is sequence number `first + i`. */
export class FillView implements Iterable<Fill> {
  constructor(
    readonly columns: FillColumns,
    readonly first: number,
    readonly length: number,
    private readonly ring: FillRing,
  ) {}

  /** The slot of fill `i` in `columns`. */
  slot(i: number): number {
    return (this.first + i) % this.columns.length;
  }

  get(i: number): Fill {
    return this.columns.get(this.slot(i));
  }

  /** The ring may write over these fills' slots again. */
  release(): void {
    this.ring.release(this);
  }

  *[Symbol.iterator](): Iterator<Fill> {
    for (let i = 0; i < this.length; i += 1) yield this.get(i);
  }
}

const capacityInitial = 1_024;

export class FillRing {
  private columns: FillColumns;
  /** The oldest sequence number kept, and the one after the newest: the fills kept are [first, end). */
  private first = 0;
  private end = 0;
  /** Views not yet released. */
  private readonly views = new Set<FillView>();

  constructor(slots: number = capacityInitial) {
    if (!Number.isSafeInteger(slots) || slots < 1) throw new RangeError(`a fill ring needs at least one slot, got ${String(slots)}`);
    this.columns = new FillColumns(slots);
  }

  get size(): number {
    return this.end - this.first;
  }

  /** Room for `count` fills without growing (a restore knows how many it will keep). */
  reserve(count: number): void {
    let capacity = this.columns.length;
    while (capacity < count) capacity *= 2;
    if (capacity !== this.columns.length) this.moveTo(capacity);
  }

  /** Keeps `fill` as number `seq`, which must follow the newest kept (any number when none is kept). */
  push(seq: number, fill: Fill): void {
    if (this.first === this.end) {
      this.first = seq;
      this.end = seq;
    } else if (seq !== this.end) {
      throw new InvariantError(`fill ${String(seq)} does not follow ${String(this.end - 1)}`);
    }
    const capacity = this.columns.length;
    if (this.end - this.first === capacity || (this.views.size > 0 && this.viewed(seq - capacity))) this.moveTo(capacity * 2);
    this.columns.set(seq % this.columns.length, fill);
    this.end = seq + 1;
  }

  /** Forgets the oldest kept fill, which must be number `seq`. */
  dropOldest(seq: number): void {
    if (this.first === this.end || seq !== this.first) throw new InvariantError(`fill ${String(seq)} is not the oldest kept`);
    this.first += 1;
  }

  has(seq: number): boolean {
    return seq >= this.first && seq < this.end;
  }

  /** Fill `seq` as a new record, or undefined when it is not kept. */
  get(seq: number): Fill | undefined {
    return this.has(seq) ? this.columns.get(seq % this.columns.length) : undefined;
  }

  /** The account of kept fill `seq` (no record made: for filters). */
  accountOf(seq: number): number {
    return this.columns.accountIds[seq % this.columns.length] as number;
  }

  instrumentOf(seq: number): number {
    return this.columns.instrumentIds[seq % this.columns.length] as number;
  }

  orderOf(seq: number): number {
    return this.columns.orderIds[seq % this.columns.length] as number;
  }

  /** The fills kept now, readable until released whatever the ring does meanwhile. */
  view(): FillView {
    const view = new FillView(this.columns, this.first, this.end - this.first, this);
    this.views.add(view);
    return view;
  }

  release(view: FillView): void {
    this.views.delete(view);
  }

  /** Whether a view reads fill `seq` from the current buffers. */
  private viewed(seq: number): boolean {
    for (const view of this.views) if (view.columns === this.columns && seq >= view.first && seq < view.first + view.length) return true;
    return false;
  }

  /** New buffers of `capacity` slots holding the kept fills; views keep the old ones. */
  private moveTo(capacity: number): void {
    const from = this.columns;
    const to = new FillColumns(capacity);
    for (let seq = this.first; seq < this.end; seq += 1) to.copy(seq % capacity, from, seq % from.length);
    this.columns = to;
    // Views of the old buffers read them, untouched from now on: nothing to protect here.
    for (const view of this.views) if (view.columns === from) this.views.delete(view);
  }
}
