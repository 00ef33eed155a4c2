import type { RawData } from "ws";

/** The text of a WebSocket message (ws hands over a Buffer, an ArrayBuffer or fragments). */
export function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString("utf8");
  if (Array.isArray(data)) return Buffer.concat(data).toString("utf8");
  return Buffer.from(data).toString("utf8");
}
