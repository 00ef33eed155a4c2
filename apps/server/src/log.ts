/**
 * Structured logs: one JSON object per line on stderr (Loki-friendly), with a
 * timestamp, level and component. Callers pass fields, never secrets.
 */
import { createJsonLogger } from "@tradestream/journal";

export const logger = createJsonLogger("server");
