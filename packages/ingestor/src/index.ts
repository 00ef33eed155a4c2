/**
 * @tradestream/ingestor: external market data in — simulated, vendor
 * (WebSocket / HTTP polling), file replay, Kafka and NATS — normalized onto
 * the instruments' grids, published on the market-data bus, turned into the
 * engine's reference prices and into the external feed's candles and tickers.
 * Outbound connections go through the egress allow-list (@tradestream/egress).
 */
export { encodeTick, InProcessBus, marketDataSubject, type MarketDataBus } from "./bus.ts";
export { DeadLetterStore, deadLetterRawCharsMax, deadLettersKeptDefault, type DeadLetterOptions } from "./dead-letters.ts";
export { ExternalMarket } from "./external-market.ts";
export { Ingestor, staleAfterMsDefault, type IngestorOptions, type IngestorStatus, type InstrumentFeedStatus, type PublicFeedStatus, type SourceCounts } from "./ingestor.ts";
export { InstrumentTable, Normalizer, type NormalizerOptions } from "./normalizer.ts";
export { gridOf, isoToUs, stepsOf } from "./parse.ts";
export { TickReader, upstreamSourceCharsMax, upstreamSourcesMax, type TickReaderOptions } from "./tick-reader.ts";
export { ReferencePricer, referenceIntervalMsDefault } from "./reference.ts";
export { FileReplayFeed, splitCsvLine, type FileReplayOptions, type ReplayFormat } from "./replay.ts";
export { SimulatedFeed, SimulatedMarket, type SimulatedFeedOptions, type SimulatedMarketOptions, type SimulatedRecord } from "./simulated.ts";
export * from "./types.ts";
export { apiKeyFromEnv, backoffDefault, backoffDelayMs, HttpPollingVendorFeed, WebSocketVendorFeed, type BackoffOptions, type HttpPollingFeedOptions, type VendorFeedOptions } from "./vendor.ts";
export { KafkaBus, KafkaFeed, kafkaBufferMaxDefault, type KafkaBusOptions, type KafkaFeedOptions } from "./kafka.ts";
export { NatsBus, NatsFeed, natsBatchTicksMax, natsBufferMaxDefault, natsFeedPullMax, natsInFlightMaxDefault, natsUrlDefault, type NatsBusOptions, type NatsFeedOptions } from "./nats.ts";
