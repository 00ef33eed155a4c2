// Command-line flags of the benchmarks: one place that parses them (node:util
// parseArgs, strict), answers `--help`/`-h` with a usage generated from the option
// descriptions, and turns a bad flag into a one-line error instead of a stack trace.
//
// `parseBench` and `benchUsage` are pure (testable); `parseBenchArgs` is what a
// benchmark calls at start-up: it prints and exits on --help (0) and on errors (2).

import { parseArgs } from "node:util";

export interface BenchStringOption {
  readonly type: "string";
  /** What the value is, in the usage: `N`, `FILE`, `book1k|book20k`. */
  readonly value: string;
  readonly default?: string;
  /** The default as the usage shows it, when the value alone would not say it (e.g. "both"); else the default, or "none". */
  readonly defaultText?: string;
  /** One line: what the option does. */
  readonly description: string;
}

export interface BenchBooleanOption {
  readonly type: "boolean";
  /** One line: what the option does. Boolean options are off unless given. */
  readonly description: string;
}

export type BenchOption = BenchStringOption | BenchBooleanOption;
export type BenchOptions = Readonly<Record<string, BenchOption>>;

export interface BenchCli<O extends BenchOptions> {
  /** The script from the repository root, e.g. `bench/engine.bench.ts`. */
  readonly script: string;
  /** Its npm script, if it has one, e.g. `bench:engine`. */
  readonly npmScript?: string;
  /** What the benchmark measures and prints; may span lines. */
  readonly summary: string;
  readonly options: O;
}

/** The parsed flags: booleans are false unless given, strings are their default or undefined. */
export type BenchValues<O extends BenchOptions> = {
  -readonly [K in keyof O]: O[K] extends BenchBooleanOption ? boolean : O[K] extends { readonly default: string } ? string : string | undefined;
};

export type BenchParse<O extends BenchOptions> =
  | { readonly kind: "values"; readonly values: BenchValues<O> }
  | { readonly kind: "help"; readonly text: string }
  | { readonly kind: "error"; readonly message: string };

const helpFlags = ["--help", "-h"];

function defaultOf(option: BenchOption): string {
  if (option.type === "boolean") return "off";
  return option.defaultText ?? (option.default === undefined || option.default === "" ? "none" : option.default);
}

/** The usage text: how to run the script, its summary, then every option with its default and description. */
export function benchUsage<O extends BenchOptions>(cli: BenchCli<O>): string {
  const rows: Array<[string, string]> = Object.entries(cli.options).map(([name, option]) => [
    option.type === "string" ? `--${name} ${option.value}` : `--${name}`,
    `${option.description} (default: ${defaultOf(option)})`,
  ]);
  rows.push(["-h, --help", "print this help and exit"]);
  const width = Math.max(...rows.map(([flag]) => flag.length));
  const lines = [`Usage: npx tsx ${cli.script} [options]`];
  if (cli.npmScript !== undefined) lines.push(`   or: npm run ${cli.npmScript} -- [options]`);
  lines.push("", cli.summary.trimEnd(), "", "Options:");
  for (const [flag, text] of rows) lines.push(`  ${flag.padEnd(width)}  ${text}`);
  return `${lines.join("\n")}\n`;
}

function errorMessage(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as { code?: unknown } | null)?.code;
  const unknown = /^Unknown option '([^']*)'/.exec(message);
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && unknown !== null) return `unknown option '${unknown[1] ?? ""}'`;
  // parseArgs' other messages: a missing or unexpected value, a positional argument. First sentence only.
  const first = message.split(". ")[0] ?? message;
  return first.charAt(0).toLowerCase() + first.slice(1);
}

/** Parses `args` strictly (no positionals, only the declared options plus --help/-h); never exits. */
export function parseBench<O extends BenchOptions>(cli: BenchCli<O>, args: readonly string[]): BenchParse<O> {
  if ("help" in cli.options) throw new Error(`${cli.script}: --help is built in, do not declare it`);
  const options: Record<string, { type: "string" | "boolean"; short?: string; default?: string | boolean }> = { help: { type: "boolean", short: "h", default: false } };
  for (const [name, option] of Object.entries(cli.options)) {
    if (option.type === "boolean") options[name] = { type: "boolean", default: false };
    else options[name] = option.default === undefined ? { type: "string" } : { type: "string", default: option.default };
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({ args: [...args], options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // `--help` wins over a mistake elsewhere on the line.
    if (args.some((arg) => helpFlags.includes(arg))) return { kind: "help", text: benchUsage(cli) };
    return { kind: "error", message: errorMessage(error) };
  }
  if (values.help === true) return { kind: "help", text: benchUsage(cli) };
  const { help: _help, ...rest } = values;
  return { kind: "values", values: rest as BenchValues<O> };
}

/**
 * A benchmark's flags from process.argv: prints the usage and exits 0 on --help,
 * prints a one-line error and exits 2 on an unknown option or a missing value.
 */
export function parseBenchArgs<O extends BenchOptions>(cli: BenchCli<O>, args: readonly string[] = process.argv.slice(2)): BenchValues<O> {
  const parsed = parseBench(cli, args);
  switch (parsed.kind) {
    case "values":
      return parsed.values;
    case "help":
      process.stdout.write(parsed.text);
      return process.exit(0);
    case "error":
      process.stderr.write(`${cli.script}: ${parsed.message}; run with --help for the options\n`);
      return process.exit(2);
  }
}
