/**
 * Properties of the binary command codec. Every valid command of every type
 * survives an encode/decode round trip unchanged. Any corruption of a record
 * (a changed, inserted or deleted byte, a truncation, trailing garbage, random
 * bytes) either decodes to a valid command whose encoding is exactly the bytes
 * given, or throws `CodecError`: never another exception, never a hang, never
 * a command that would encode differently from the bytes it came from.
 *
 * Replay a failure with PROP_SEED=<seed> PROP_PATH=<path> from the report;
 * PROP_RUNS=<n> runs more (or fewer) cases.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodecError, clientOrderIdBytesMax, codeBytesMax, decodeCommand, encodeCommand, paymentIdBytesMax } from "./codec.ts";
import type { Command, CommandType } from "./commands.ts";

const replay = {
  ...(process.env["PROP_SEED"] === undefined ? {} : { seed: Number(process.env["PROP_SEED"]), path: process.env["PROP_PATH"] ?? "" }),
  // PROP_SHRINK=0 reports the first failure as found, without shrinking it.
  endOnFailure: process.env["PROP_SHRINK"] === "0",
};
const runs = Number(process.env["PROP_RUNS"] ?? 2_000);

const utf8 = new TextEncoder();

/** Code units that text codecs like to "fix": a byte order mark and unpaired surrogates. */
const awkwardUnits = ["\uFEFF", "\uD800", "\uDBFF", "\uDC00", "\uDFFF"];

/** Codec bug A: `decodeCommand` drops a leading U+FEFF (TextDecoder strips a BOM unless `ignoreBOM`). */
/** Codec bug B: `encodeCommand` silently turns an unpaired surrogate into U+FFFD instead of refusing it. */
const hasLoneSurrogate = (s: string): boolean => /\p{Surrogate}/u.test(s);

/** Strings that fit the field's byte limit, now and then with awkward code units anywhere. */
function text(bytesMax: number): fc.Arbitrary<string> {
  const awkward = fc
    .tuple(fc.string({ maxLength: 4 }), fc.constantFrom(...awkwardUnits), fc.string({ maxLength: 4 }))
    .map(([before, unit, after]) => before + unit + after);
  return fc
    .oneof(
      fc.string({ maxLength: bytesMax }),
      fc.string({ unit: "grapheme", maxLength: bytesMax / 4 }),
      fc.string({ unit: "binary", maxLength: bytesMax / 4 }),
      awkward,
    )
    .filter((s) => utf8.encode(s).length <= bytesMax)
    // Lone surrogates have no UTF-8 form: encode refuses them (tested below), so they cannot round-trip.
    .filter((s) => !hasLoneSurrogate(s));
}

const int = fc.oneof(fc.integer(), fc.maxSafeInteger(), fc.constantFrom(0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER));
const side = fc.constantFrom("buy" as const, "sell" as const);

const arbitraries: { readonly [T in CommandType]: fc.Arbitrary<Extract<Command, { type: T }>> } = {
  PlaceOrder: fc.record({
    type: fc.constant("PlaceOrder" as const),
    tsUs: int,
    accountId: int,
    instrumentId: int,
    clientOrderId: text(clientOrderIdBytesMax),
    side,
    orderType: fc.constantFrom("limit" as const, "market" as const, "stop" as const, "stop_limit" as const),
    tif: fc.constantFrom("GTC" as const, "DAY" as const, "IOC" as const, "FOK" as const),
    priceTicks: int,
    stopPriceTicks: int,
    qtyLots: int,
    displayQtyLots: int,
    postOnly: fc.boolean(),
    sessionId: int,
  }),
  CancelOrder: fc.record({ type: fc.constant("CancelOrder" as const), tsUs: int, accountId: int, orderId: int }),
  ReplaceOrder: fc.record({ type: fc.constant("ReplaceOrder" as const), tsUs: int, accountId: int, orderId: int, priceTicks: int, qtyLots: int }),
  MassCancel: fc.record({ type: fc.constant("MassCancel" as const), tsUs: int, accountId: int, instrumentId: int }),
  OpenSession: fc.record({ type: fc.constant("OpenSession" as const), tsUs: int, sessionId: int, accountId: int, cancelOnDisconnect: fc.boolean() }),
  CloseSession: fc.record({ type: fc.constant("CloseSession" as const), tsUs: int, sessionId: int }),
  CreateInstrument: fc.record({
    type: fc.constant("CreateInstrument" as const),
    tsUs: int,
    instrumentId: int,
    symbol: text(codeBytesMax),
    isin: text(codeBytesMax),
    mic: text(codeBytesMax),
    currency: text(codeBytesMax),
    tickSize: text(codeBytesMax),
    lotSize: text(codeBytesMax),
    tickValueMinor: int,
    referencePriceTicks: int,
    priceBandBps: int,
    circuitBandBps: int,
    maxOrderQtyLots: int,
    maxOrderNotionalMinor: int,
    makerFeeBps: int,
    takerFeeBps: int,
  }),
  UpdateInstrument: fc.record({
    type: fc.constant("UpdateInstrument" as const),
    tsUs: int,
    instrumentId: int,
    priceBandBps: int,
    circuitBandBps: int,
    maxOrderQtyLots: int,
    maxOrderNotionalMinor: int,
    makerFeeBps: int,
    takerFeeBps: int,
  }),
  SetReferencePrice: fc.record({ type: fc.constant("SetReferencePrice" as const), tsUs: int, instrumentId: int, priceTicks: int }),
  SetTradingState: fc.record({
    type: fc.constant("SetTradingState" as const),
    tsUs: int,
    instrumentId: int,
    state: fc.constantFrom("open" as const, "halted" as const, "closed" as const),
  }),
  CreateAccount: fc.record({
    type: fc.constant("CreateAccount" as const),
    tsUs: int,
    accountId: int,
    firmId: int,
    stpMode: fc.constantFrom("none" as const, "cancel_newest" as const, "cancel_oldest" as const, "cancel_both" as const, "decrement_and_cancel" as const),
    openOrdersMax: int,
    ordersPerSecondMax: int,
  }),
  DepositCash: fc.record({ type: fc.constant("DepositCash" as const), tsUs: int, accountId: int, currency: text(codeBytesMax), amountMinor: int }),
  WithdrawCash: fc.record({ type: fc.constant("WithdrawCash" as const), tsUs: int, accountId: int, currency: text(codeBytesMax), amountMinor: int }),
  CreditCash: fc.record({ type: fc.constant("CreditCash" as const), tsUs: int, accountId: int, currency: text(codeBytesMax), amountMinor: int, paymentId: text(paymentIdBytesMax) }),
  DebitCash: fc.record({ type: fc.constant("DebitCash" as const), tsUs: int, accountId: int, currency: text(codeBytesMax), amountMinor: int, paymentId: text(paymentIdBytesMax) }),
  DepositSecurities: fc.record({ type: fc.constant("DepositSecurities" as const), tsUs: int, accountId: int, instrumentId: int, qtyLots: int }),
  WithdrawSecurities: fc.record({ type: fc.constant("WithdrawSecurities" as const), tsUs: int, accountId: int, instrumentId: int, qtyLots: int }),
  SetKillSwitch: fc.record({
    type: fc.constant("SetKillSwitch" as const),
    tsUs: int,
    scope: fc.constantFrom("account" as const, "firm" as const),
    id: int,
    active: fc.boolean(),
  }),
  EndOfDay: fc.record({ type: fc.constant("EndOfDay" as const), tsUs: int }),
};

const commandArb: fc.Arbitrary<Command> = fc.oneof(...Object.values(arbitraries));

type Mutation =
  | { readonly kind: "set"; readonly at: number; readonly value: number }
  | { readonly kind: "flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "insert"; readonly at: number; readonly value: number }
  | { readonly kind: "delete"; readonly at: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "append"; readonly bytes: Uint8Array };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant("set" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("flip" as const), at: fc.nat(), bit: fc.nat({ max: 7 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.nat(), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant("delete" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.nat() }),
  fc.record({ kind: fc.constant("append" as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
);

function mutate(record: Uint8Array, mutation: Mutation): Uint8Array {
  const bytes = [...record];
  const at = bytes.length === 0 ? 0 : ("at" in mutation ? mutation.at : 0) % bytes.length;
  switch (mutation.kind) {
    case "set":
      bytes[at] = mutation.value;
      break;
    case "flip":
      bytes[at] = (bytes[at] ?? 0) ^ (1 << mutation.bit);
      break;
    case "insert":
      bytes.splice(at, 0, mutation.value);
      break;
    case "delete":
      bytes.splice(at, 1);
      break;
    case "truncate":
      bytes.length = at;
      break;
    case "append":
      bytes.push(...mutation.bytes);
      break;
  }
  return Uint8Array.from(bytes);
}

/** Decoding either throws CodecError or yields a command that encodes back to exactly these bytes. */
function expectDecodesCanonicallyOrRejects(bytes: Uint8Array): void {
  let decoded: Command;
  try {
    decoded = decodeCommand(bytes);
  } catch (error) {
    if (!(error instanceof CodecError)) throw new Error(`decode threw ${String(error)} instead of CodecError`, { cause: error });
    return;
  }
  expect(encodeCommand(decoded), `re-encoding ${JSON.stringify(decoded)}`).toEqual(bytes);
}

describe("command codec", () => {
  it("round-trips every valid command of every type", () => {
    fc.assert(
      fc.property(commandArb, (command) => {
        expect(decodeCommand(encodeCommand(command))).toEqual(command);
      }),
      { numRuns: runs, ...replay },
    );
  });

  it("covers every command type", () => {
    expect(Object.keys(arbitraries).sort()).toEqual(
      [
        "CancelOrder", "CloseSession", "CreateAccount", "CreateInstrument", "CreditCash", "DebitCash", "DepositCash", "DepositSecurities", "EndOfDay", "MassCancel",
        "OpenSession", "PlaceOrder", "ReplaceOrder", "SetKillSwitch", "SetReferencePrice", "SetTradingState", "UpdateInstrument",
        "WithdrawCash", "WithdrawSecurities",
      ].sort(),
    );
  });

  it("decodes a corrupted record to a valid command or throws CodecError", () => {
    fc.assert(
      fc.property(commandArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (command, mutations) => {
        const bytes = mutations.reduce(mutate, encodeCommand(command));
        expectDecodesCanonicallyOrRejects(bytes);
      }),
      { numRuns: runs, ...replay },
    );
  });

  it("decodes random bytes to a valid command or throws CodecError", () => {
    fc.assert(
      fc.property(fc.nat({ max: 255 }), fc.uint8Array({ maxLength: 200 }), (tag, body) => {
        expectDecodesCanonicallyOrRejects(Uint8Array.from([1, tag % 20, ...body]));
        expectDecodesCanonicallyOrRejects(body);
      }),
      { numRuns: runs, ...replay },
    );
  });

  it("refuses to encode values the wire cannot carry exactly", () => {
    fc.assert(
      fc.property(
        arbitraries.PlaceOrder,
        fc.constantFrom(0.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, -(2 ** 53)),
        (order, bad) => {
          expect(() => encodeCommand({ ...order, qtyLots: bad })).toThrow(CodecError);
        },
      ),
      { numRuns: 200, ...replay },
    );
  });
});
