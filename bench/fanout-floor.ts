// The floor under the fan-out figure: how fast can any single Node.js process on
// this machine put one small message on N loopback TCP connections, with the
// receivers in another process, as the e2e fan-out phase does? A bare `net` server
// writes one 200-byte frame to every connection per round (nothing else: no
// WebSocket, no engine, no JSON), at the fan-out phase's rate; the receiving
// process timestamps each arrival. Delivery = arrival − the round's start, both on
// the machine's monotonic clock (process.hrtime is CLOCK_MONOTONIC, shared by
// processes). The gateway's own fan-out cannot beat this on the same machine.
//
// Used by e2e.bench.ts (`fanout.floor` in its JSON); runnable alone:
//   npx tsx bench/fanout-floor.ts [--subscribers N] [--rounds N] [--rate N]

import { spawn } from "node:child_process";
import { connect, createServer, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { parseBenchArgs } from "./cli.ts";

export interface FanoutFloor {
  readonly subscribers: number;
  readonly rounds: number;
  readonly deliveries: number;
  readonly deliveryP50Ms: number;
  readonly deliveryP99Ms: number;
  /** Mean time one round of writes kept the sending thread busy, per connection. */
  readonly writeUsPerSubscriber: number;
}

const frameBytes = 200;

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

/** Receiver process: opens `count` connections, reports "ready", then one line of delivery latencies (ms) when told to stop. */
async function receive(port: number, count: number): Promise<void> {
  const latencies: number[] = [];
  const sockets: Socket[] = [];
  for (let i = 0; i < count; i += 1) {
    const socket = connect(port, "127.0.0.1");
    let pending = "";
    socket.setEncoding("latin1");
    socket.on("data", (chunk: string) => {
      const at = process.hrtime.bigint();
      pending += chunk;
      // Frames are fixed-size; each starts with the round's start time in ns.
      while (pending.length >= frameBytes) {
        const sentAt = BigInt(pending.slice(0, pending.indexOf(" ")));
        latencies.push(Number(at - sentAt) / 1e6);
        pending = pending.slice(frameBytes);
      }
    });
    sockets.push(socket);
    if (i % 250 === 249) await new Promise((resolve) => setTimeout(resolve, 5));
  }
  process.stdout.write("ready\n");
  process.stdin.once("data", () => {
    for (const socket of sockets) socket.destroy();
    // Exit only once the pipe has taken the whole line (stdout to a pipe is asynchronous).
    process.stdout.write(`${JSON.stringify(latencies)}\n`, () => process.exit(0));
  });
}

/** Sender: a bare server, one frame per connection per round, `rate` rounds per second. */
export async function measureFanoutFloor(subscribers: number, rounds: number, rate: number): Promise<FanoutFloor> {
  const connections: Socket[] = [];
  const server = createServer((socket) => {
    socket.setNoDelay(true);
    connections.push(socket);
  });
  await new Promise<void>((resolve) => server.listen({ port: 0, host: "127.0.0.1", backlog: 4096 }, resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--receive", String(address.port), String(subscribers)], { stdio: ["pipe", "pipe", "inherit"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stdout.on("data", (chunk: string) => {
    output += chunk;
  });
  const deadline = Date.now() + 120_000;
  while (!(output.includes("ready") && connections.length >= subscribers)) {
    if (Date.now() > deadline) throw new Error(`fan-out floor: ${String(connections.length)} of ${String(subscribers)} connections`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  output = "";
  let busyNs = 0n;
  for (let round = 0; round < rounds; round += 1) {
    const start = process.hrtime.bigint();
    const head = `${String(start)} `;
    const frame = Buffer.from(head.padEnd(frameBytes, "x"), "latin1");
    for (const socket of connections) socket.write(frame);
    busyNs += process.hrtime.bigint() - start;
    await new Promise((resolve) => setTimeout(resolve, 1000 / rate));
  }
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  child.stdin.write("stop\n");
  await new Promise<void>((resolve) => child.once("exit", () => resolve()));
  for (const socket of connections) socket.destroy();
  server.close();
  const latencies = Float64Array.from(JSON.parse(output.trim()) as number[]).sort();
  const round = (x: number): number => Math.round(x * 100) / 100;
  return {
    subscribers,
    rounds,
    deliveries: latencies.length,
    deliveryP50Ms: round(percentile(latencies, 0.5)),
    deliveryP99Ms: round(percentile(latencies, 0.99)),
    writeUsPerSubscriber: round(Number(busyNs) / 1e3 / rounds / subscribers),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv[2] === "--receive") {
    await receive(Number(process.argv[3]), Number(process.argv[4]));
  } else {
    const flags = parseBenchArgs({
      script: "bench/fanout-floor.ts",
      summary: `The floor under the e2e fan-out figure: a bare socket server writes one 200-byte frame per round to
every connection of a receiving process; prints one JSON object with the delivery p50/p99.`,
      options: {
        subscribers: { type: "string", value: "N", default: "10000", description: "loopback TCP connections" },
        rounds: { type: "string", value: "N", default: "25", description: "frames written to every connection" },
        rate: { type: "string", value: "N", default: "5", description: "rounds per second" },
      },
    });
    process.stdout.write(`${JSON.stringify(await measureFanoutFloor(Number(flags.subscribers), Number(flags.rounds), Number(flags.rate)))}\n`);
    process.exit(0);
  }
}
