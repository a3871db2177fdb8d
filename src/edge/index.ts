/** The meter edge: P1 and MQTT ingestion, the off-chain sample store with per-slot fingerprints, verification, spool. */
export { EDGE_ERRORS, type EdgeErrorCode } from './errors.js';
export { parseTelegram, MAX_TELEGRAM_BYTES, type P1Telegram, type P1ParseResult, type P1Warning, type P1WarningCode, type P1Object, type PhaseValues, type MbusChannel, type MbusReading, type MbusKind, type ParseOptions } from './p1/parser.js';
export { P1Framer, type FramedTelegram, type FramerCounters, type FramerOptions } from './p1/framer.js';
export { crc16Arc, crcHex } from './p1/crc16.js';
export { parseDsmrTime, formatDsmrTime, type DsmrTime } from './p1/timestamp.js';
export { replayTelegrams, replayFile, renderIskraTelegram, ISKRA_VECTOR_STATE, type ReplayOptions, type ReplayTelegram, type IskraState } from './p1/replay.js';
export { sampleFromTelegram, validateSample, sha256Hex, type MeterSample, type FromTelegramOptions } from './sample.js';
export { EDGE_DOMAIN, ZERO_FINGERPRINT, sampleBytes, slotStart, nextLink, slotOfTimestamp, type ChainedSample } from './fingerprint.js';
export { SampleStore, openEdgeDatabase, type StoredSample, type AppendOutcome, type StoreCounters, type StoreOptions, type AppendOptions, type EpochOffsets, type RefusalCode } from './store.js';
export { deriveInterval, type IntervalReading, type DeriveOptions, type Gap } from './interval.js';
export { verifySamples, type SlotVerification, type SlotStatus, type OnChainFingerprint, type OnChainLookup } from './verify.js';
export { Spool, type SpoolKey, type SpoolEntry, type SpoolState, type EnqueueOutcome, type DeliveryOutcome, type SpoolOptions } from './spool.js';
export { decodeDsmrReaderJson, DSMR_READER_FIELDS, DEFAULT_MAX_PAYLOAD_BYTES, type DecodeOptions, type DecodedMqttSample, type DsmrReaderField } from './mqtt/dsmr-reader.js';
