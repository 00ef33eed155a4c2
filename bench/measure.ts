// Measurement primitives shared by the engine benchmark and the profiling harness.
// Everything a timed region touches is prepared before it starts: command objects,
// peer arguments, latency sample arrays. Each timed region starts after a full GC.

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { type Command, CommandEncoder, type EngineEvent } from "@tradestream/contracts";
import { replayChunkBytes } from "../packages/journal/src/index.ts";
import { Engine } from "../packages/engine/src/index.ts";
import { applyPeer, newPeerBook, peerRestingOrders, type PeerOp } from "./peer.ts";
import { summarizeLatency, type LatencySummary } from "./stats.ts";
import { instrumentId, type StreamCommand, type Workload } from "./workload.ts";

/** A full collection: `--expose-gc` when given, else exposed at run time through V8 flags. */
function getGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed !== undefined) return exposed;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}
const gc = getGc();

/**
 * A workload's commands (setup and prefill included) as journal records side by side in
 * 4 MiB buffers, as the journal's replay reads them (one read per chunk, each record a
 * view into it), not each in a buffer of its own.
 */
export function journalRecords(workload: Workload): Uint8Array[] {
  const encoder = new CommandEncoder();
  const records: Uint8Array[] = [];
  let chunk = new Uint8Array(replayChunkBytes);
  let used = 0;
  for (const command of [...workload.setup, ...workload.prefill, ...workload.stream]) {
    const record = encoder.encodeView(command);
    if (used + record.length > chunk.length) {
      chunk = new Uint8Array(replayChunkBytes);
      used = 0;
    }
    chunk.set(record, used);
    records.push(chunk.subarray(used, used + record.length));
    used += record.length;
  }
  return records;
}

export function fullGc(): void {
  gc();
  gc();
}

export function freshEngine(commands: readonly Command[]): Engine {
  const engine = new Engine();
  for (const command of commands) engine.apply(command);
  return engine;
}

function countRejects(events: readonly EngineEvent[]): number {
  let rejects = 0;
  for (const event of events) if (event.type === "CommandRejected") rejects++;
  return rejects;
}

/** A fresh engine with the workload's setup and prefill applied (untimed); throws if any was rejected. */
export function preparedEngine(workload: Workload): Engine {
  const engine = new Engine();
  let rejects = 0;
  for (const command of workload.setup) rejects += countRejects(engine.apply(command));
  for (const command of workload.prefill) rejects += countRejects(engine.apply(command));
  if (rejects > 0) throw new Error(`${rejects} setup/prefill commands were rejected`);
  return engine;
}

export function restingOrders(engine: Engine): number {
  return engine.instruments.get(instrumentId)?.book.size ?? -1;
}

/**
 * How the engine hands out events: `in-place` (`applyInPlace`, the engine's reused event objects,
 * as journal replay consumes them) or `keeping` (`apply`, new event objects per command, as the
 * live shard keeps them until the journal acknowledges).
 */
export type EventMode = "in-place" | "keeping";

/** Commands per second over the whole measured stream, on a prepared engine. */
export function engineThroughput(workload: Workload, mode: EventMode = "in-place"): { opsPerSec: number; events: number; resting: number } {
  const engine = preparedEngine(workload);
  const stream = workload.stream;
  fullGc();
  let events = 0;
  const start = process.hrtime.bigint();
  if (mode === "in-place") for (let i = 0; i < stream.length; i++) events += engine.applyInPlace(stream[i] as StreamCommand);
  else for (let i = 0; i < stream.length; i++) events += engine.apply(stream[i] as StreamCommand).length;
  const elapsedNs = Number(process.hrtime.bigint() - start);
  return { opsPerSec: Math.round((stream.length * 1e9) / elapsedNs), events, resting: restingOrders(engine) };
}

export function peerThroughput(prefill: readonly PeerOp[], ops: readonly PeerOp[]): { opsPerSec: number; errors: number; resting: number } {
  const book = newPeerBook();
  for (const op of prefill) applyPeer(book, op);
  fullGc();
  let errors = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < ops.length; i++) errors += applyPeer(book, ops[i] as PeerOp);
  const elapsedNs = Number(process.hrtime.bigint() - start);
  return { opsPerSec: Math.round((ops.length * 1e9) / elapsedNs), errors, resting: peerRestingOrders(book) };
}

export interface EngineLatency extends LatencySummary {
  rejects: number;
  trades: number;
  resting: number;
}

/** Times every command on its own, in place (hrtime.bigint() before and after; the timer's cost is in each sample). */
export function engineLatency(workload: Workload): EngineLatency {
  const engine = preparedEngine(workload);
  const stream = workload.stream;
  const samples = new Float64Array(stream.length);
  let rejects = 0;
  let trades = 0;
  fullGc();
  for (let i = 0; i < stream.length; i++) {
    const command = stream[i] as StreamCommand;
    const t0 = process.hrtime.bigint();
    const count = engine.applyInPlace(command);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
    const events = engine.eventsInPlace;
    for (let j = 0; j < count; j++) {
      const event = events[j] as EngineEvent;
      if (event.type === "TradeExecuted") trades++;
      else if (event.type === "CommandRejected") rejects++;
    }
  }
  return { ...summarizeLatency(samples), rejects, trades, resting: restingOrders(engine) };
}

export function peerLatency(prefill: readonly PeerOp[], ops: readonly PeerOp[]): LatencySummary {
  const book = newPeerBook();
  for (const op of prefill) applyPeer(book, op);
  const samples = new Float64Array(ops.length);
  fullGc();
  for (let i = 0; i < ops.length; i++) {
    const op = ops[i] as PeerOp;
    const t0 = process.hrtime.bigint();
    applyPeer(book, op);
    const t1 = process.hrtime.bigint();
    samples[i] = Number(t1 - t0);
  }
  return summarizeLatency(samples);
}
