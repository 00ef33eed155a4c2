// @tradestream/journal: the embedded, durable command log (segmented file journal
// with group commit and crash recovery), the snapshot store, and an in-memory log for
// tests and simulations. Callers depend on the CommandLog and SnapshotStore ports;
// the file-backed implementations are the embedded defaults.

export type { CommandLog, JournalLogger } from "./command-log.ts";
export { crc32c } from "./crc32c.ts";
export { JournalBacklogFullError, JournalClosedError, JournalCorruptError, JournalFailedError } from "./errors.ts";
export {
  backlogBytesMaxCeiling,
  backlogBytesMaxDefault,
  backlogBytesMaxFloor,
  groupCommitBytesMax,
  groupCommitRecordsMax,
  openFileJournal,
  segmentBytesMaxCeiling,
  segmentBytesMaxDefault,
  segmentBytesMaxFloor,
  type FileJournal,
  type FileJournalOptions,
  type JournalIo,
  type JournalStats,
} from "./file-journal.ts";
export { createJsonLogger } from "./logger.ts";
export { frameBytesMax, recordBytesMax, recordHeaderBytes } from "./framing.ts";
export { replayChunkBytes } from "./segment-reader.ts";
export { createMemoryLog } from "./memory-log.ts";
export {
  openSnapshotStore,
  snapshotBytesMaxCeiling,
  snapshotBytesMaxDefault,
  snapshotsKeptDefault,
  snapshotsKeptMax,
  type SnapshotStore,
  type SnapshotStoreOptions,
} from "./snapshot-store.ts";
