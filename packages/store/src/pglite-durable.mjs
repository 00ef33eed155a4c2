// Durable commits for the embedded database on a data directory. PGlite runs PostgreSQL
// over Emscripten's NODEFS, which has no fsync of its own (and an fdatasync that does
// nothing), so PGlite starts PostgreSQL with `-F` (fsync off): a commit reached the
// operating system's page cache, not the disk, and a power cut could lose it or leave the
// files inconsistent. Here NODEFS gets an fsync that syncs the file it is given, and
// PostgreSQL starts with fsync on and `wal_sync_method = fsync` (its WAL flush then goes
// through that call): every COMMIT waits for its write-ahead log to be on disk, and
// checkpoints sync the data files, as PostgreSQL does on a real file system.
// Plain JavaScript so that the worker thread (pglite-worker.mjs) loads it under any loader.
import { closeSync, fdatasyncSync, fsyncSync, openSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { NodeFS } from "@electric-sql/pglite/nodefs";

/** Syncs this thread's durable databases have made (files and directories). */
let syncs = 0;

/** How many syncs this thread's durable databases have made so far. */
export function durableSyncCount() {
  return syncs;
}

/** PGlite's start parameters with fsync on (without `-F`) and the WAL flushed by fsync. */
export function durableStartParams() {
  const defaults = PGlite.defaultStartParams;
  if (!Array.isArray(defaults)) throw new Error("PGlite no longer publishes its start parameters: durable commits cannot be configured");
  return [...defaults.filter((param) => param !== "-F"), "-c", "fsync=on", "-c", "wal_sync_method=fsync"];
}

/** NODEFS on `dir` with a working fsync: the stream's file, or the directory it names. */
export class DurableNodeFS extends NodeFS {
  async init(pg, options) {
    const result = await super.init(pg, options);
    const preRun = result.emscriptenOpts.preRun;
    preRun.push((module) => {
      const nodefs = module.NODEFS;
      if (nodefs === undefined || typeof nodefs.stream_ops !== "object" || typeof nodefs.realPath !== "function") {
        throw new Error("PGlite's NODEFS is not where it was: durable commits cannot be configured");
      }
      nodefs.stream_ops.fsync = (stream) => {
        if (stream.nfd !== undefined) {
          fdatasyncSync(stream.nfd);
        } else {
          const fd = openSync(nodefs.realPath(stream.node), "r");
          try {
            fsyncSync(fd);
          } finally {
            closeSync(fd);
          }
        }
        syncs += 1;
        return 0;
      };
    });
    return result;
  }
}

/** The PGlite options that make a database on `dir` durable. */
export function durableOptions(dir) {
  return { fs: new DurableNodeFS(dir), startParams: durableStartParams() };
}
