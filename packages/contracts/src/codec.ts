/**
 * Binary codec for commands: the bytes the command log stores. A record is
 * `u8 version | u8 command tag | fields…` where each field is, by kind:
 * an integer as a little-endian float64 (every value is a safe integer, checked on
 * both encode and decode), a boolean as u8, an enumerated string as its u8 index,
 * and a free string as u16 byte length + UTF-8. The field order is the schema
 * below; the schema is the single definition of the wire layout, so encode and
 * decode cannot drift apart. Decoding validates every field and throws
 * `CodecError` on anything malformed: a corrupt or foreign record never reaches
 * the engine.
 *
 * Replay decodes mostly `PlaceOrder` and `CancelOrder`, so those two also have a
 * hand-written decoder: fixed offsets, no per-field dispatch, ASCII strings built
 * without a `TextDecoder` call. It is checked against the schema when this module
 * loads (field names, kinds and enumerations), and it handles only records that
 * are well formed; anything else (a bad length, value, enumeration, non-ASCII
 * text) goes to the schema-driven decoder, which accepts or refuses it exactly as
 * before and with the same error.
 */
import type { CancelOrder, Command, CommandType, OrderType, PlaceOrder, Side, TimeInForce } from "./commands.ts";
import { commandVersion } from "./commands.ts";

type FieldKind =
  | { readonly kind: "int" }
  | { readonly kind: "bool" }
  | { readonly kind: "string"; readonly bytesMax: number }
  | { readonly kind: "enum"; readonly values: readonly string[] };

const int = { kind: "int" } as const;
const bool = { kind: "bool" } as const;
const str = (bytesMax: number) => ({ kind: "string", bytesMax }) as const;
const oneOf = (...values: string[]) => ({ kind: "enum", values }) as const;

/** Longest client order id, symbol etc. accepted on the wire (bytes). */
export const clientOrderIdBytesMax = 64;
export const codeBytesMax = 16;
export const nameBytesMax = 64;
/** Longest payment id carried by CreditCash / DebitCash (bytes). */
export const paymentIdBytesMax = 64;

const side = oneOf("buy", "sell");

// The tag of each command is its index in this table: append only, never reorder.
const schemas: ReadonlyArray<readonly [CommandType, ReadonlyArray<readonly [string, FieldKind]>]> = [
  [
    "PlaceOrder",
    [
      ["tsUs", int], ["accountId", int], ["instrumentId", int], ["clientOrderId", str(clientOrderIdBytesMax)],
      ["side", side], ["orderType", oneOf("limit", "market", "stop", "stop_limit")], ["tif", oneOf("GTC", "DAY", "IOC", "FOK")],
      ["priceTicks", int], ["stopPriceTicks", int], ["qtyLots", int], ["displayQtyLots", int], ["postOnly", bool], ["sessionId", int],
    ],
  ],
  ["CancelOrder", [["tsUs", int], ["accountId", int], ["orderId", int]]],
  ["ReplaceOrder", [["tsUs", int], ["accountId", int], ["orderId", int], ["priceTicks", int], ["qtyLots", int]]],
  ["MassCancel", [["tsUs", int], ["accountId", int], ["instrumentId", int]]],
  ["OpenSession", [["tsUs", int], ["sessionId", int], ["accountId", int], ["cancelOnDisconnect", bool]]],
  ["CloseSession", [["tsUs", int], ["sessionId", int]]],
  [
    "CreateInstrument",
    [
      ["tsUs", int], ["instrumentId", int], ["symbol", str(codeBytesMax)], ["isin", str(codeBytesMax)], ["mic", str(codeBytesMax)],
      ["currency", str(codeBytesMax)], ["tickSize", str(codeBytesMax)], ["lotSize", str(codeBytesMax)], ["tickValueMinor", int],
      ["referencePriceTicks", int], ["priceBandBps", int], ["circuitBandBps", int], ["maxOrderQtyLots", int],
      ["maxOrderNotionalMinor", int], ["makerFeeBps", int], ["takerFeeBps", int],
    ],
  ],
  [
    "UpdateInstrument",
    [
      ["tsUs", int], ["instrumentId", int], ["priceBandBps", int], ["circuitBandBps", int], ["maxOrderQtyLots", int],
      ["maxOrderNotionalMinor", int], ["makerFeeBps", int], ["takerFeeBps", int],
    ],
  ],
  ["SetReferencePrice", [["tsUs", int], ["instrumentId", int], ["priceTicks", int]]],
  ["SetTradingState", [["tsUs", int], ["instrumentId", int], ["state", oneOf("open", "halted", "closed")]]],
  [
    "CreateAccount",
    [
      ["tsUs", int], ["accountId", int], ["firmId", int],
      ["stpMode", oneOf("none", "cancel_newest", "cancel_oldest", "cancel_both", "decrement_and_cancel")],
      ["openOrdersMax", int], ["ordersPerSecondMax", int],
    ],
  ],
  ["DepositCash", [["tsUs", int], ["accountId", int], ["currency", str(codeBytesMax)], ["amountMinor", int]]],
  ["WithdrawCash", [["tsUs", int], ["accountId", int], ["currency", str(codeBytesMax)], ["amountMinor", int]]],
  ["DepositSecurities", [["tsUs", int], ["accountId", int], ["instrumentId", int], ["qtyLots", int]]],
  ["WithdrawSecurities", [["tsUs", int], ["accountId", int], ["instrumentId", int], ["qtyLots", int]]],
  ["SetKillSwitch", [["tsUs", int], ["scope", oneOf("account", "firm")], ["id", int], ["active", bool]]],
  ["EndOfDay", [["tsUs", int]]],
  ["CreditCash", [["tsUs", int], ["accountId", int], ["currency", str(codeBytesMax)], ["amountMinor", int], ["paymentId", str(paymentIdBytesMax)]]],
  ["DebitCash", [["tsUs", int], ["accountId", int], ["currency", str(codeBytesMax)], ["amountMinor", int], ["paymentId", str(paymentIdBytesMax)]]],
];

const tagOf = new Map<string, number>(schemas.map(([type], tag) => [type, tag]));

export class CodecError extends Error {
  override readonly name = "CodecError";
}

/** Largest encoded command; the journal's record limit must be at least this. */
export const commandBytesMax = 1024;

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
/** A lone surrogate has no UTF-8 form; encoding would silently replace it, so it is refused. */
const loneSurrogate = /\p{Surrogate}/u;

/** A reusable encoder: one scratch buffer, no allocation but the returned copy. */
export class CommandEncoder {
  private readonly buffer = new ArrayBuffer(commandBytesMax);
  private readonly bytes = new Uint8Array(this.buffer);
  private readonly view = new DataView(this.buffer);

  /** Encodes into the scratch buffer and returns a view valid until the next call. */
  encodeView(command: Command): Uint8Array {
    const tag = tagOf.get(command.type);
    if (tag === undefined) throw new CodecError(`unknown command type ${String(command.type)}`);
    const schema = schemas[tag];
    if (schema === undefined) throw new CodecError(`no schema for tag ${tag}`);
    const fields = command as unknown as Record<string, unknown>;
    let at = 0;
    this.bytes[at++] = commandVersion;
    this.bytes[at++] = tag;
    for (const [name, field] of schema[1]) {
      const value = fields[name];
      switch (field.kind) {
        case "int":
          if (typeof value !== "number" || !Number.isSafeInteger(value)) throw new CodecError(`${command.type}.${name} must be a safe integer`);
          this.view.setFloat64(at, value, true);
          at += 8;
          break;
        case "bool":
          if (typeof value !== "boolean") throw new CodecError(`${command.type}.${name} must be a boolean`);
          this.bytes[at++] = value ? 1 : 0;
          break;
        case "enum": {
          const index = typeof value === "string" ? field.values.indexOf(value) : -1;
          if (index < 0) throw new CodecError(`${command.type}.${name} must be one of ${field.values.join(", ")}`);
          this.bytes[at++] = index;
          break;
        }
        case "string": {
          if (typeof value !== "string") throw new CodecError(`${command.type}.${name} must be a string`);
          if (loneSurrogate.test(value)) throw new CodecError(`${command.type}.${name} is not well-formed Unicode`);
          const { written, read } = encoder.encodeInto(value, this.bytes.subarray(at + 2, at + 2 + field.bytesMax));
          if (read !== value.length) throw new CodecError(`${command.type}.${name} is longer than ${field.bytesMax} bytes`);
          this.view.setUint16(at, written, true);
          at += 2 + written;
          break;
        }
      }
    }
    return this.bytes.subarray(0, at);
  }

  /** Encodes into a fresh array the caller owns. */
  encode(command: Command): Uint8Array {
    return this.encodeView(command).slice();
  }
}

const sharedEncoder = new CommandEncoder();

export function encodeCommand(command: Command): Uint8Array {
  return sharedEncoder.encode(command);
}

/** Decodes and validates one record; throws CodecError on anything malformed. */
export function decodeCommand(record: Uint8Array): Command {
  if (record.length >= 2 && record[0] === commandVersion) {
    const tag = record[1];
    const command = tag === placeOrderTag ? decodePlaceOrder(record) : tag === cancelOrderTag ? decodeCancelOrder(record) : null;
    if (command !== null) return command;
  }
  return decodeBySchema(record);
}

/**
 * The schema-driven decoder, for every command type: the definition of what a record
 * means and of every error. `decodeCommand` gives the same answer for every input.
 */
export function decodeBySchema(record: Uint8Array): Command {
  const view = new DataView(record.buffer, record.byteOffset, record.byteLength);
  if (record.length < 2) throw new CodecError("record shorter than its header");
  if (record[0] !== commandVersion) throw new CodecError(`unsupported command version ${record[0]}`);
  const tag = record[1] ?? 255;
  const schema = schemas[tag];
  if (schema === undefined) throw new CodecError(`unknown command tag ${tag}`);
  const out: Record<string, unknown> = { type: schema[0] };
  let at = 2;
  for (const [name, field] of schema[1]) {
    switch (field.kind) {
      case "int": {
        if (at + 8 > record.length) throw new CodecError(`truncated at ${name}`);
        const value = view.getFloat64(at, true);
        if (!Number.isSafeInteger(value)) throw new CodecError(`${schema[0]}.${name} is not a safe integer`);
        out[name] = value;
        at += 8;
        break;
      }
      case "bool": {
        const value = record[at++];
        if (value !== 0 && value !== 1) throw new CodecError(`${schema[0]}.${name} is not a boolean`);
        out[name] = value === 1;
        break;
      }
      case "enum": {
        const value = field.values[record[at++] ?? 255];
        if (value === undefined) throw new CodecError(`${schema[0]}.${name} has an unknown value`);
        out[name] = value;
        break;
      }
      case "string": {
        if (at + 2 > record.length) throw new CodecError(`truncated at ${name}`);
        const length = view.getUint16(at, true);
        if (length > field.bytesMax || at + 2 + length > record.length) throw new CodecError(`${schema[0]}.${name} has a bad length`);
        try {
          out[name] = decoder.decode(record.subarray(at + 2, at + 2 + length));
        } catch {
          throw new CodecError(`${schema[0]}.${name} is not valid UTF-8`);
        }
        at += 2 + length;
        break;
      }
    }
  }
  if (at !== record.length) throw new CodecError(`${record.length - at} trailing bytes after ${schema[0]}`);
  return out as unknown as Command;
}

// ── Fast path for PlaceOrder and CancelOrder ──────────────────────────────

const placeOrderTag = tagOf.get("PlaceOrder") ?? -1;
const cancelOrderTag = tagOf.get("CancelOrder") ?? -1;

/** Field names and kinds the fast decoders assume, in wire order; checked against the schema below. */
const placeOrderLayout = [
  "tsUs:int", "accountId:int", "instrumentId:int", "clientOrderId:string", "side:enum", "orderType:enum", "tif:enum",
  "priceTicks:int", "stopPriceTicks:int", "qtyLots:int", "displayQtyLots:int", "postOnly:bool", "sessionId:int",
];
const cancelOrderLayout = ["tsUs:int", "accountId:int", "orderId:int"];

function fieldsOf(type: CommandType): ReadonlyArray<readonly [string, FieldKind]> {
  const schema = schemas[tagOf.get(type) ?? -1];
  if (schema === undefined) throw new Error(`codec: no schema for ${type}`);
  return schema[1];
}

function enumValues(type: CommandType, name: string): readonly string[] {
  const field = fieldsOf(type).find(([fieldName]) => fieldName === name)?.[1];
  if (field?.kind !== "enum") throw new Error(`codec: ${type}.${name} is not an enumeration`);
  return field.values;
}

function assertLayout(type: CommandType, layout: readonly string[]): void {
  const actual = fieldsOf(type).map(([name, field]) => `${name}:${field.kind}`);
  if (actual.join(",") !== layout.join(",")) throw new Error(`codec: the fast ${type} decoder does not match the schema`);
}

assertLayout("PlaceOrder", placeOrderLayout);
assertLayout("CancelOrder", cancelOrderLayout);
const clientOrderIdField = fieldsOf("PlaceOrder")[3]?.[1];
if (clientOrderIdField?.kind !== "string" || clientOrderIdField.bytesMax !== clientOrderIdBytesMax) {
  throw new Error("codec: the fast PlaceOrder decoder assumes another client order id limit");
}
const sides = enumValues("PlaceOrder", "side") as readonly Side[];
const orderTypes = enumValues("PlaceOrder", "orderType") as readonly OrderType[];
const timesInForce = enumValues("PlaceOrder", "tif") as readonly TimeInForce[];

/** Bytes of a PlaceOrder record besides its client order id: header, 8 integers, 3 enumerations, 1 boolean, 1 length. */
const placeOrderFixedBytes = 2 + 8 * 8 + 3 + 1 + 2;
const cancelOrderBytes = 2 + 3 * 8;

/**
 * A view of the buffer the last records came from: replay hands over records that sit side by
 * side in one large chunk, so the view is made once per chunk, and a float64 is then one
 * unaligned load at the record's offset (no copy, no allocation per field).
 */
let viewBuffer: ArrayBufferLike | null = null;
let viewOfBuffer: DataView<ArrayBufferLike> = new DataView(new ArrayBuffer(8));

/** The view of `record`'s buffer (the caller reads at `record.byteOffset + at`). */
function viewOf(record: Uint8Array): DataView<ArrayBufferLike> {
  const buffer = record.buffer;
  if (buffer !== viewBuffer) {
    viewOfBuffer = new DataView(buffer);
    viewBuffer = buffer;
  }
  return viewOfBuffer;
}

/**
 * The ASCII text of `length` bytes at `at`, or null when a byte is not ASCII (the caller decodes
 * UTF-8 then). Up to eight characters are made by one `String.fromCharCode` call, so a short id
 * is one string, not one per character.
 */
function asciiAt(record: Uint8Array, at: number, length: number): string | null {
  let high = 0;
  for (let i = at; i < at + length; i += 1) high |= record[i] as number;
  if (high >= 0x80) return null;
  let text = "";
  let i = at;
  const end = at + length;
  while (end - i >= 8) {
    text += String.fromCharCode(
      record[i] as number, record[i + 1] as number, record[i + 2] as number, record[i + 3] as number,
      record[i + 4] as number, record[i + 5] as number, record[i + 6] as number, record[i + 7] as number,
    );
    i += 8;
  }
  switch (end - i) {
    case 0:
      return text;
    case 1:
      return text + String.fromCharCode(record[i] as number);
    case 2:
      return text + String.fromCharCode(record[i] as number, record[i + 1] as number);
    case 3:
      return text + String.fromCharCode(record[i] as number, record[i + 1] as number, record[i + 2] as number);
    case 4:
      return text + String.fromCharCode(record[i] as number, record[i + 1] as number, record[i + 2] as number, record[i + 3] as number);
    case 5:
      return text + String.fromCharCode(record[i] as number, record[i + 1] as number, record[i + 2] as number, record[i + 3] as number, record[i + 4] as number);
    case 6:
      return (
        text +
        String.fromCharCode(record[i] as number, record[i + 1] as number, record[i + 2] as number, record[i + 3] as number, record[i + 4] as number, record[i + 5] as number)
      );
    default:
      return (
        text +
        String.fromCharCode(
          record[i] as number, record[i + 1] as number, record[i + 2] as number, record[i + 3] as number,
          record[i + 4] as number, record[i + 5] as number, record[i + 6] as number,
        )
      );
  }
}

/** A well-formed PlaceOrder record, or null for the schema decoder to judge. */
function decodePlaceOrder(record: Uint8Array): PlaceOrder | null {
  if (record.length < placeOrderFixedBytes) return null;
  const idBytes = (record[26] as number) | ((record[27] as number) << 8);
  if (idBytes > clientOrderIdBytesMax || record.length !== placeOrderFixedBytes + idBytes) return null;
  const view = viewOf(record);
  const base = record.byteOffset;
  const tsUs = view.getFloat64(base + 2, true);
  const accountId = view.getFloat64(base + 10, true);
  const instrumentId = view.getFloat64(base + 18, true);
  const clientOrderId = asciiAt(record, 28, idBytes);
  let at = 28 + idBytes;
  const side = sides[record[at] as number];
  const orderType = orderTypes[record[at + 1] as number];
  const tif = timesInForce[record[at + 2] as number];
  const priceTicks = view.getFloat64(base + at + 3, true);
  const stopPriceTicks = view.getFloat64(base + at + 11, true);
  const qtyLots = view.getFloat64(base + at + 19, true);
  const displayQtyLots = view.getFloat64(base + at + 27, true);
  const postOnly = record[at + 35] as number;
  at += 36;
  const sessionId = view.getFloat64(base + at, true);
  if (
    clientOrderId === null || side === undefined || orderType === undefined || tif === undefined || postOnly > 1 ||
    !Number.isSafeInteger(tsUs) || !Number.isSafeInteger(accountId) || !Number.isSafeInteger(instrumentId) ||
    !Number.isSafeInteger(priceTicks) || !Number.isSafeInteger(stopPriceTicks) || !Number.isSafeInteger(qtyLots) ||
    !Number.isSafeInteger(displayQtyLots) || !Number.isSafeInteger(sessionId)
  ) {
    return null;
  }
  // Keys in schema order, as the schema decoder builds them.
  return {
    type: "PlaceOrder", tsUs, accountId, instrumentId, clientOrderId, side, orderType, tif,
    priceTicks, stopPriceTicks, qtyLots, displayQtyLots, postOnly: postOnly === 1, sessionId,
  };
}

/** A well-formed CancelOrder record, or null for the schema decoder to judge. */
function decodeCancelOrder(record: Uint8Array): CancelOrder | null {
  if (record.length !== cancelOrderBytes) return null;
  const view = viewOf(record);
  const base = record.byteOffset;
  const tsUs = view.getFloat64(base + 2, true);
  const accountId = view.getFloat64(base + 10, true);
  const orderId = view.getFloat64(base + 18, true);
  if (!Number.isSafeInteger(tsUs) || !Number.isSafeInteger(accountId) || !Number.isSafeInteger(orderId)) return null;
  return { type: "CancelOrder", tsUs, accountId, orderId };
}
