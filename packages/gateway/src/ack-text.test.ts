import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ackText } from "./ws.ts";

describe("ackText", () => {
  it("is exactly JSON.stringify of the ack object, with or without an id", () => {
    const body = fc.jsonValue();
    const id = fc.oneof(fc.constant(undefined), fc.string(), fc.integer(), fc.double({ noNaN: true, noDefaultInfinity: true }));
    fc.assert(
      fc.property(id, fc.integer({ min: 100, max: 599 }), fc.boolean(), body, (ackId, status, replay, answer) => {
        expect(ackText(ackId, status, replay, JSON.stringify(answer))).toBe(JSON.stringify({ type: "ack", id: ackId, status, replay, body: answer }));
      }),
    );
  });
});
