import { spawn } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, expectTypeOf, it } from "vitest";
import { benchUsage, parseBench, type BenchValues } from "./cli.ts";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

const cli = {
  script: "bench/example.bench.ts",
  npmScript: "bench:example",
  summary: "Example benchmark: measures nothing.\nSecond line of the summary.",
  options: {
    commands: { type: "string", value: "N", default: "1000000", description: "measured commands" },
    only: { type: "string", value: "a|b", defaultText: "both", description: "one variant only" },
    profile: { type: "string", value: "FILE", description: "write a profile to FILE" },
    skip: { type: "string", value: "LIST", default: "", description: "phases to leave out" },
    "no-write": { type: "boolean", description: "do not append the result" },
  },
} as const;

function values(args: string[]): BenchValues<typeof cli.options> {
  const parsed = parseBench(cli, args);
  if (parsed.kind !== "values") throw new Error(`expected values, got ${parsed.kind}`);
  return parsed.values;
}

describe("benchUsage", () => {
  const usage = benchUsage(cli);
  const line = (flag: string): string => usage.split("\n").find((l) => l.trimStart().startsWith(flag)) ?? "";

  it("shows how to run the script and its summary", () => {
    expect(usage).toMatch(/^Usage: npx tsx bench\/example\.bench\.ts \[options\]\n/);
    expect(usage).toContain("npm run bench:example -- [options]");
    expect(usage).toContain("Example benchmark: measures nothing.\nSecond line of the summary.");
  });

  it("lists every option with its value, description and default", () => {
    expect(line("--commands N")).toMatch(/measured commands \(default: 1000000\)$/);
    expect(line("--only a|b")).toMatch(/one variant only \(default: both\)$/);
    expect(line("--profile FILE")).toMatch(/write a profile to FILE \(default: none\)$/);
    expect(line("--skip LIST")).toMatch(/phases to leave out \(default: none\)$/);
    expect(line("--no-write")).toMatch(/do not append the result \(default: off\)$/);
    expect(line("-h, --help")).toContain("print this help");
    for (const name of Object.keys(cli.options)) expect(line(`--${name}`)).toContain("(default: ");
  });

  it("aligns the descriptions", () => {
    const options = usage.split("Options:\n")[1]?.trimEnd().split("\n") ?? [];
    expect(options).toHaveLength(Object.keys(cli.options).length + 1);
    const columns = new Set(options.map((l) => l.slice(2).search(/ {2}\S/)));
    expect(columns.size).toBe(1);
  });

  it("leaves out the npm line when there is no npm script", () => {
    expect(benchUsage({ script: "bench/x.ts", summary: "X.", options: {} })).not.toContain("npm run");
  });
});

describe("parseBench", () => {
  it("applies the defaults: booleans off, strings their default or undefined", () => {
    expect(values([])).toEqual({ commands: "1000000", only: undefined, skip: "", "no-write": false });
  });

  it("reads the given options and has no help key", () => {
    const parsed = values(["--commands", "500", "--only=a", "--no-write", "--profile", "p.cpuprofile"]);
    expect(parsed).toEqual({ commands: "500", only: "a", profile: "p.cpuprofile", skip: "", "no-write": true });
    expect("help" in parsed).toBe(false);
  });

  it("answers --help and -h with the usage", () => {
    expect(parseBench(cli, ["--help"])).toEqual({ kind: "help", text: benchUsage(cli) });
    expect(parseBench(cli, ["--commands", "5", "-h"])).toEqual({ kind: "help", text: benchUsage(cli) });
    expect(parseBench(cli, ["--bogus", "--help"]).kind).toBe("help");
  });

  it("refuses an unknown option with a one-line error", () => {
    expect(parseBench(cli, ["--bogus"])).toEqual({ kind: "error", message: "unknown option '--bogus'" });
    expect(parseBench(cli, ["--commands", "5", "-x"])).toEqual({ kind: "error", message: "unknown option '-x'" });
  });

  it("refuses a missing value, a value on a boolean, and positionals (strict)", () => {
    for (const args of [["--commands"], ["--no-write=yes"], ["extra"]]) {
      const parsed = parseBench(cli, args);
      expect(parsed.kind).toBe("error");
      if (parsed.kind === "error") expect(parsed.message).not.toContain("\n");
    }
    expect(parseBench(cli, ["--commands"])).toEqual({ kind: "error", message: "option '--commands <value>' argument missing" });
    expect(parseBench(cli, ["extra"])).toEqual({ kind: "error", message: "unexpected argument 'extra'" });
  });

  it("keeps --help its own", () => {
    expect(() => parseBench({ script: "bench/x.ts", summary: "X.", options: { help: { type: "boolean", description: "mine" } } }, [])).toThrow(/built in/);
  });

  it("types the values from the options", () => {
    expectTypeOf(values([])).toEqualTypeOf<{ commands: string; only: string | undefined; profile: string | undefined; skip: string; "no-write": boolean }>();
  });
});

/** Runs a command from the repository root; resolves with its exit code and output. */
function run(command: string, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describe("the benchmarks answer --help", () => {
  it("bench/engine.bench.ts", async () => {
    const { code, stdout, stderr } = await run("npx", ["tsx", "bench/engine.bench.ts", "--help"]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("Usage");
    expect(stdout).toContain("--commands N");
  });

  it("bench/readmodels.bench.ts", async () => {
    const { code, stdout, stderr } = await run("npx", ["tsx", "bench/readmodels.bench.ts", "--help"]);
    expect(code, stderr).toBe(0);
    expect(stdout).toContain("Usage");
    expect(stdout).toContain("--seed N");
  });
});
