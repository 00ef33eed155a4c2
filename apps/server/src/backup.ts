/**
 * Backups of a data directory and its store, and their restore.
 *
 * A backup is one folder `tradestream-backup-<UTC time>` under the backup
 * directory (default `<dataDir>/../backups`, or $TRADESTREAM_BACKUP_DIR) holding:
 *   - `files/journal/…` and `files/snapshots/…`: the command log segments (copied
 *     in name order, i.e. in seq order) and the snapshots;
 *   - `files/secret.key`: the server secret (tokens and API-key encryption);
 *   - the store: `files/pglite/…` (a copy of the embedded store's directory) or
 *     `postgres.dump` (`pg_dump -Fc` of the PostgreSQL database);
 *   - `manifest.json`: time, what is included, and every file's size and SHA-256.
 *
 * Consistency. With the embedded PGlite store the platform must be STOPPED: a
 * copy of a live PGlite directory is not a consistent database. `createBackup`
 * refuses when the platform's /ready answers (pass `readyUrl`). With PostgreSQL
 * the dump is a consistent snapshot by itself and the platform may keep running;
 * the journal is copied after the dump, so the copy holds at least every command
 * the dumped ledger has settled (the ledger catches up on the rest at start-up).
 * A segment being appended while it is copied may end in a torn record; on
 * restore the journal recovers it like after a crash.
 *
 * A backup is written under a temporary name and renamed when complete, so a
 * half-written backup never counts as one. Retention keeps the newest `keep`.
 */
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync } from "node:fs";
import { chmod, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, normalize, relative, resolve, sep } from "node:path";
import { promisify } from "node:util";
import type { JournalLogger } from "@tradestream/journal";

const run = promisify(execFile);

export const backupPrefix = "tradestream-backup-";
export const defaultKeep = 30;
const manifestName = "manifest.json";
const filesDir = "files";
const dumpName = "postgres.dump";
const partialPrefix = ".partial-";

export interface ManifestFile {
  /** Path inside the backup folder, with forward slashes. */
  readonly path: string;
  readonly size: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly format: "tradestream-backup";
  readonly version: 1;
  readonly createdAt: string;
  readonly store: "pglite" | "postgresql";
  /** Which parts are included: journal, snapshots, secret.key, pglite or postgres.dump. */
  readonly includes: readonly string[];
  readonly totalBytes: number;
  /** Every directory in the backup (paths as in `files`), empty ones included. */
  readonly directories: readonly string[];
  readonly files: readonly ManifestFile[];
}

export interface BackupOptions {
  readonly dataDir: string;
  /** PostgreSQL URL: the store is dumped with pg_dump instead of copying pglite/. */
  readonly databaseUrl?: string | undefined;
  /** Default: $TRADESTREAM_BACKUP_DIR or `<dataDir>/../backups`. */
  readonly backupDir?: string | undefined;
  /** How many backups to keep (newest first); default $TRADESTREAM_BACKUP_KEEP or 30. */
  readonly keep?: number | undefined;
  /** The platform's /ready URL: with PGlite, a backup is refused while it answers. */
  readonly readyUrl?: string | undefined;
  readonly logger?: JournalLogger | undefined;
  /** The backup's time (tests). */
  readonly now?: Date | undefined;
}

export interface BackupResult {
  readonly path: string;
  readonly manifest: Manifest;
  /** Older backups deleted by retention. */
  readonly removed: readonly string[];
}

export interface RestoreOptions {
  readonly backupPath: string;
  readonly dataDir: string;
  readonly databaseUrl?: string | undefined;
  /** Overwrite a non-empty data directory (and, for PostgreSQL, the database's objects). */
  readonly force?: boolean | undefined;
  readonly logger?: JournalLogger | undefined;
}

export interface RestoreResult {
  readonly manifest: Manifest;
  readonly files: number;
}

/** A refusal the operator can act on (exit code 1 with its message). */
export class BackupError extends Error {
  override readonly name = "BackupError";
}

export function defaultBackupDir(dataDir: string): string {
  const fromEnv = process.env.TRADESTREAM_BACKUP_DIR;
  return fromEnv !== undefined && fromEnv !== "" ? resolve(fromEnv) : resolve(dataDir, "..", "backups");
}

export function defaultBackupKeep(): number {
  const text = process.env.TRADESTREAM_BACKUP_KEEP;
  if (text === undefined || text === "") return defaultKeep;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1) throw new BackupError(`TRADESTREAM_BACKUP_KEEP must be a whole number ≥ 1, got ${text}`);
  return value;
}

async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

interface Tree {
  /** Regular files, relative to the root, in name order (so journal segments go in seq order). */
  readonly files: string[];
  /** Every directory, empty ones included (a PostgreSQL data directory needs its empty ones). */
  readonly dirs: string[];
}

async function listTree(dir: string): Promise<Tree> {
  const tree: Tree = { files: [], dirs: [] };
  const walk = async (sub: string): Promise<void> => {
    const entries = await readdir(join(dir, sub), { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const rel = sub === "" ? entry.name : join(sub, entry.name);
      if (entry.isDirectory()) {
        tree.dirs.push(rel);
        await walk(rel);
      } else if (entry.isFile()) tree.files.push(rel);
    }
  };
  if (existsSync(dir)) await walk("");
  return tree;
}

async function listFiles(dir: string): Promise<string[]> {
  return (await listTree(dir)).files;
}

async function copyTree(from: string, to: string): Promise<number> {
  const tree = await listTree(from);
  await mkdir(to, { recursive: true });
  for (const sub of tree.dirs) await mkdir(join(to, sub), { recursive: true });
  for (const file of tree.files) await copyFile(join(from, file), join(to, file));
  return tree.files.length;
}

/** Whether something listens at `url`: only a refused or unresolvable connection counts as "no". */
async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1500) });
    await response.arrayBuffer();
    return true;
  } catch (error) {
    const cause = error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
    const code = typeof cause?.code === "string" ? cause.code : "";
    return !["ECONNREFUSED", "ENOTFOUND", "EHOSTUNREACH", "EADDRNOTAVAIL", "ECONNRESET"].includes(code);
  }
}

function stamp(now: Date): string {
  // 2026-01-02T03:04:05.678Z → 20260102T030405678Z: sortable, no colons.
  return now.toISOString().replace(/[-:.]/g, "");
}

/** The completed backups under `backupDir`, oldest first. */
export async function listBackups(backupDir: string): Promise<string[]> {
  if (!existsSync(backupDir)) return [];
  const entries = await readdir(backupDir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory() && e.name.startsWith(backupPrefix) && existsSync(join(backupDir, e.name, manifestName)))
    .map((e) => e.name)
    .sort()
    .map((name) => join(backupDir, name));
}

export async function createBackup(options: BackupOptions): Promise<BackupResult> {
  const dataDir = resolve(options.dataDir);
  const backupDir = resolve(options.backupDir ?? defaultBackupDir(dataDir));
  const keep = options.keep ?? defaultBackupKeep();
  if (!Number.isSafeInteger(keep) || keep < 1) throw new BackupError(`keep must be a whole number ≥ 1, got ${String(keep)}`);
  const postgres = options.databaseUrl !== undefined && options.databaseUrl !== "";
  if (!existsSync(join(dataDir, "journal"))) throw new BackupError(`${dataDir} holds no journal: not a TradeStream data directory`);
  if (!postgres) {
    if (!existsSync(join(dataDir, "pglite"))) throw new BackupError(`${dataDir} holds no pglite/ store (set DATABASE_URL if the store is PostgreSQL)`);
    if (options.readyUrl !== undefined && (await answers(options.readyUrl))) {
      throw new BackupError(`the platform answers at ${options.readyUrl}: stop it first — a backup of the embedded PGlite store needs the platform stopped`);
    }
  }

  const now = options.now ?? new Date();
  let name = `${backupPrefix}${stamp(now)}`;
  for (let n = 1; existsSync(join(backupDir, name)); n++) name = `${backupPrefix}${stamp(now)}-${String(n)}`;
  const target = join(backupDir, name);
  const partial = join(backupDir, `${partialPrefix}${name}`);
  await mkdir(partial, { recursive: true });
  try {
    const includes: string[] = [];
    // The store first: with PostgreSQL the journal copied afterwards covers everything the dump settled.
    if (postgres) {
      await run("pg_dump", ["-Fc", "--no-owner", "-f", join(partial, dumpName), `--dbname=${options.databaseUrl ?? ""}`], { maxBuffer: 16 * 1024 * 1024 });
      includes.push(dumpName);
    } else {
      await copyTree(join(dataDir, "pglite"), join(partial, filesDir, "pglite"));
      includes.push("pglite");
    }
    for (const part of ["journal", "snapshots"]) {
      if (!existsSync(join(dataDir, part))) continue;
      await copyTree(join(dataDir, part), join(partial, filesDir, part));
      includes.push(part);
    }
    if (existsSync(join(dataDir, "secret.key"))) {
      await mkdir(join(partial, filesDir), { recursive: true });
      await copyFile(join(dataDir, "secret.key"), join(partial, filesDir, "secret.key"));
      includes.push("secret.key");
    }

    const tree = await listTree(partial);
    const files: ManifestFile[] = [];
    for (const file of tree.files) {
      const info = await stat(join(partial, file));
      files.push({ path: file.split(sep).join("/"), size: info.size, sha256: await sha256File(join(partial, file)) });
    }
    const manifest: Manifest = {
      format: "tradestream-backup",
      version: 1,
      createdAt: now.toISOString(),
      store: postgres ? "postgresql" : "pglite",
      includes,
      totalBytes: files.reduce((sum, f) => sum + f.size, 0),
      directories: tree.dirs.map((d) => d.split(sep).join("/")),
      files,
    };
    await writeFile(join(partial, manifestName), `${JSON.stringify(manifest, null, 2)}\n`);
    await rename(partial, target);

    const all = await listBackups(backupDir);
    const removed = all.slice(0, Math.max(0, all.length - keep));
    for (const old of removed) await rm(old, { recursive: true, force: true });
    options.logger?.info("backup written", { path: target, store: manifest.store, files: files.length, bytes: manifest.totalBytes, removed: removed.length });
    return { path: target, manifest, removed };
  } catch (error) {
    await rm(partial, { recursive: true, force: true });
    throw error;
  }
}

function parseManifest(text: string): Manifest {
  const value = JSON.parse(text) as Partial<Manifest>;
  if (value.format !== "tradestream-backup" || value.version !== 1 || !Array.isArray(value.files) || !Array.isArray(value.directories) || (value.store !== "pglite" && value.store !== "postgresql")) {
    throw new BackupError("manifest.json is not a TradeStream backup manifest (version 1)");
  }
  return value as Manifest;
}

/** A manifest path as a local relative path inside the backup; refuses one that escapes it. */
function insidePath(path: string): string {
  const local = normalize(path);
  if (isAbsolute(local) || local === ".." || local.startsWith(`..${sep}`)) throw new BackupError(`manifest names a path outside the backup: ${path}`);
  return local;
}

/** Checks every file of a backup against its manifest; throws on the first difference. */
export async function verifyBackup(backupPath: string): Promise<Manifest> {
  const root = resolve(backupPath);
  const manifestFile = join(root, manifestName);
  if (!existsSync(manifestFile)) throw new BackupError(`${root} holds no manifest.json: not a backup`);
  const manifest = parseManifest(await readFile(manifestFile, "utf8"));
  const listed = new Set<string>();
  for (const file of manifest.files) {
    const local = insidePath(file.path);
    const full = join(root, local);
    if (!existsSync(full)) throw new BackupError(`backup file missing: ${file.path}`);
    const info = await stat(full);
    if (info.size !== file.size) throw new BackupError(`backup file ${file.path} has ${String(info.size)} bytes, the manifest says ${String(file.size)}: refusing a damaged backup`);
    if ((await sha256File(full)) !== file.sha256) throw new BackupError(`backup file ${file.path} does not match its SHA-256 in the manifest: refusing a damaged backup`);
    listed.add(local);
  }
  for (const file of await listFiles(root)) {
    if (file !== manifestName && !listed.has(file)) throw new BackupError(`backup holds a file the manifest does not list: ${file}`);
  }
  return manifest;
}

export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const root = resolve(options.backupPath);
  const dataDir = resolve(options.dataDir);
  const manifest = await verifyBackup(root);
  const postgres = options.databaseUrl !== undefined && options.databaseUrl !== "";
  if (manifest.store === "postgresql" && !postgres) throw new BackupError("the backup holds a PostgreSQL dump: set DATABASE_URL to the database to restore into");
  if (manifest.store === "pglite" && postgres) throw new BackupError("the backup holds an embedded PGlite store, not a PostgreSQL dump: unset DATABASE_URL to restore it");
  if (existsSync(dataDir) && (await readdir(dataDir)).length > 0) {
    if (options.force !== true) throw new BackupError(`${dataDir} is not empty: refusing to overwrite it (use --force)`);
    for (const part of ["journal", "snapshots", "pglite", "secret.key"]) await rm(join(dataDir, part), { recursive: true, force: true });
  }
  await mkdir(dataDir, { recursive: true });
  for (const dir of manifest.directories) {
    const local = insidePath(dir);
    if (local.startsWith(`${filesDir}${sep}`)) await mkdir(join(dataDir, relative(filesDir, local)), { recursive: true });
  }
  let count = 0;
  for (const file of manifest.files) {
    const local = insidePath(file.path);
    if (!local.startsWith(`${filesDir}${sep}`)) continue;
    const destination = join(dataDir, relative(filesDir, local));
    await mkdir(dirname(destination), { recursive: true });
    await copyFile(join(root, local), destination);
    count++;
  }
  if (existsSync(join(dataDir, "secret.key"))) await chmod(join(dataDir, "secret.key"), 0o600);
  if (manifest.store === "postgresql") {
    const args = ["--clean", "--if-exists", "--no-owner", "--single-transaction", `--dbname=${options.databaseUrl ?? ""}`, join(root, dumpName)];
    await run("pg_restore", args, { maxBuffer: 16 * 1024 * 1024 });
    count++;
  }
  options.logger?.info("backup restored", { from: root, dataDir, store: manifest.store, createdAt: manifest.createdAt, files: count });
  return { manifest, files: count };
}
