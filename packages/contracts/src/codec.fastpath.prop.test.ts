/**
 * The hand-written PlaceOrder and CancelOrder decoders against the schema-driven
 * one: for every input (valid records, corrupted records, random bytes) the
 * public `decodeCommand` must give exactly what `decodeBySchema` gives: the same
 * command with the same keys in the same order and the same values (−0
 * included), or a `CodecError` with the same message.
 *
 * Replay a failure with PROP_SEED=<seed> PROP_PATH=<path> from the report;
 * PROP_RUNS=<n> runs more (or fewer) cases.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CodecError, clientOrderIdBytesMax, decodeBySchema, decodeCommand, encodeCommand } from "./codec.ts";
import type { Command } from "./commands.ts";

const replay = process.env["PROP_SEED"] === undefined ? {} : { seed: Number(process.env["PROP_SEED"]), path: process.env["PROP_PATH"] ?? "" };
const runs = Number(process.env["PROP_RUNS"] ?? 3_000);

const utf8 = new TextEncoder();

const int = fc.oneof(
  fc.integer({ min: 0, max: 1_000_000 }),
  fc.maxSafeInteger(),
  fc.constantFrom(0, -0, 1, -1, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
);

/** Client order ids: mostly ASCII (the fast path), sometimes any text that fits (the fallback). */
const clientOrderId = fc
  .oneof(
    fc.string({ unit: fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code)), maxLength: clientOrderIdBytesMax }),
    fc.string({ unit: "grapheme", maxLength: clientOrderIdBytesMax / 4 }),
    fc.constantFrom("\uFEFFabc", "é", "x".repeat(clientOrderIdBytesMax)),
  )
  .filter((s) => utf8.encode(s).length <= clientOrderIdBytesMax && !/\p{Surrogate}/u.test(s));

const placeOrder: fc.Arbitrary<Command> = fc.record({
  type: fc.constant("PlaceOrder" as const),
  tsUs: int,
  accountId: int,
  instrumentId: int,
  clientOrderId,
  side: fc.constantFrom("buy" as const, "sell" as const),
  orderType: fc.constantFrom("limit" as const, "market" as const, "stop" as const, "stop_limit" as const),
  tif: fc.constantFrom("GTC" as const, "DAY" as const, "IOC" as const, "FOK" as const),
  priceTicks: int,
  stopPriceTicks: int,
  qtyLots: int,
  displayQtyLots: int,
  postOnly: fc.boolean(),
  sessionId: int,
});

const cancelOrder: fc.Arbitrary<Command> = fc.record({ type: fc.constant("CancelOrder" as const), tsUs: int, accountId: int, orderId: int });

const command = fc.oneof(placeOrder, cancelOrder);

/** A record with up to four bytes changed, inserted or deleted, or cut short, or extended. */
const corrupted = fc
  .tuple(
    command,
    fc.array(
      fc.tuple(fc.constantFrom("set", "insert", "delete", "truncate", "append"), fc.nat(), fc.nat({ max: 255 })),
      { minLength: 1, maxLength: 4 },
    ),
  )
  .map(([c, edits]) => {
    const bytes = [...encodeCommand(c)];
    for (const [edit, position, value] of edits) {
      const at = bytes.length === 0 ? 0 : position % bytes.length;
      if (edit === "set") bytes[at] = value;
      else if (edit === "insert") bytes.splice(at, 0, value);
      else if (edit === "delete") bytes.splice(at, 1);
      else if (edit === "truncate") bytes.length = at;
      else bytes.push(value);
    }
    return Uint8Array.from(bytes);
  });

type Outcome = { readonly command: Command } | { readonly error: string };

function outcome(decode: (record: Uint8Array) => Command, record: Uint8Array): Outcome {
  try {
    return { command: decode(record) };
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    return { error: error.message };
  }
}

/** Same keys in the same order, and every value the same by `Object.is` (so −0 differs from 0). */
function expectIdentical(record: Uint8Array): void {
  const fast = outcome(decodeCommand, record);
  const schema = outcome(decodeBySchema, record);
  if ("error" in schema) {
    expect(fast).toEqual(schema);
    return;
  }
  expect("command" in fast).toBe(true);
  if (!("command" in fast)) return;
  const fastFields = Object.entries(fast.command);
  const schemaFields = Object.entries(schema.command);
  expect(fastFields.map(([key]) => key)).toEqual(schemaFields.map(([key]) => key));
  fastFields.forEach(([key, value], i) => {
    expect(Object.is(value, schemaFields[i]?.[1]), `${key}: ${String(value)} vs ${String(schemaFields[i]?.[1])}`).toBe(true);
  });
}

describe("fast PlaceOrder and CancelOrder decoding", () => {
  it("decodes every valid record exactly as the schema decoder does", () => {
    fc.assert(fc.property(command, (c) => expectIdentical(encodeCommand(c))), { numRuns: runs, ...replay });
  });

  it("accepts or refuses every corrupted record exactly as the schema decoder does", () => {
    fc.assert(fc.property(corrupted, expectIdentical), { numRuns: runs, ...replay });
  });

  it("accepts or refuses random bytes behind a PlaceOrder or CancelOrder header exactly as the schema decoder does", () => {
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.uint8Array({ maxLength: 160 }), (tag, body) => expectIdentical(Uint8Array.from([1, tag, ...body]))),
      { numRuns: runs, ...replay },
    );
  });

  it("keeps −0, the integer limits, a byte-order mark and the longest id", () => {
    for (const c of [
      { type: "CancelOrder", tsUs: -0, accountId: Number.MAX_SAFE_INTEGER, orderId: Number.MIN_SAFE_INTEGER },
      {
        type: "PlaceOrder", tsUs: -0, accountId: 1, instrumentId: 1, clientOrderId: "\uFEFFabc", side: "sell", orderType: "stop_limit",
        tif: "FOK", priceTicks: Number.MAX_SAFE_INTEGER, stopPriceTicks: -0, qtyLots: 1, displayQtyLots: 0, postOnly: true, sessionId: 0,
      },
      {
        type: "PlaceOrder", tsUs: 1, accountId: 1, instrumentId: 1, clientOrderId: "x".repeat(clientOrderIdBytesMax), side: "buy",
        orderType: "limit", tif: "GTC", priceTicks: 1, stopPriceTicks: 0, qtyLots: 1, displayQtyLots: 0, postOnly: false, sessionId: 0,
      },
    ] as const satisfies readonly Command[]) {
      expectIdentical(encodeCommand(c));
      expect(decodeCommand(encodeCommand(c))).toEqual(c);
    }
  });

  it("reads records that sit at any offset of a larger buffer", () => {
    const record = encodeCommand({ type: "CancelOrder", tsUs: 5, accountId: 7, orderId: 9 });
    for (let offset = 0; offset < 8; offset += 1) {
      const buffer = new Uint8Array(offset + record.length + 3);
      buffer.set(record, offset);
      expect(decodeCommand(buffer.subarray(offset, offset + record.length))).toEqual({ type: "CancelOrder", tsUs: 5, accountId: 7, orderId: 9 });
    }
  });

  it("reads records packed side by side in shared buffers, the buffers taking turns, as replay hands them over", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(command, fc.nat({ max: 2 })), { minLength: 1, maxLength: 40 }), (items) => {
        // Up to three chunks; each record goes into the chunk its number names, right after the previous one.
        const chunks = [new Uint8Array(64 * 1024), new Uint8Array(64 * 1024), new Uint8Array(64 * 1024)];
        const used = [3, 0, 5];
        const records = items.map(([c, which]) => {
          const bytes = encodeCommand(c);
          const chunk = chunks[which] as Uint8Array;
          const at = used[which] as number;
          chunk.set(bytes, at);
          used[which] = at + bytes.length;
          return { c, view: chunk.subarray(at, at + bytes.length) };
        });
        for (const { c, view } of records) {
          expect(decodeCommand(view)).toEqual(decodeBySchema(view));
          expect(decodeCommand(view)).toEqual(c);
        }
      }),
      { numRuns: Math.ceil(runs / 10), ...replay },
    );
  });
});
