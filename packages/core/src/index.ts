// The public surface of the engine. Faces import from here only.
export * from './domain.js';
export * from './refusal.js';
export * from './clock.js';
export * from './duration.js';
export * from './token.js';
export * from './token-scan.js';
export * from './policy.js';
export * from './views.js';
export * from './service.js';
export { newEvent, parseSince, queryEvents, pageOf, clampLimit, checkEventType } from './events.js';
export { parseSort, checkStatus } from './key-query.js';
export { createRemoteService, type RemoteOptions } from './remote-service.js';
export { LEAK_REPORTER, parseLeakReports, reportLeaks, type LeakFeedback, type LeakReport } from './leaks.js';
export { Engine, createEngine, createLocalService, initStore, type EngineOptions, type VerifyOutcome, type InitOptions } from './engine.js';
export type { Store, Transaction } from './store/types.js';
export { createJsonFileStore, JsonFileStore, eventLogPathFor, type JsonFileStoreOptions } from './store/json-file.js';
export { createMemoryStore, LegacyMemoryStore } from './store/legacy-memory.js';
// The store boundary v2 and what every adapter holding the tenant in memory shares.
export type * from './store/boundary.js';
export type { Store as StoreV2, Transaction as TransactionV2 } from './store/boundary.js';
export { MemoryStore } from './store/memory.js';
export { TenantState, type StoreOp, type Touched, type LastUsedSource } from './store/tenant-state.js';
export { StateReads, StateTransaction } from './store/state-transaction.js';
export { ChangeSignal, changeOf } from './store/change-signal.js';
export { UsageAggregates, mergeAddresses } from './store/usage-aggregates.js';
export { findInLog, eventMatcher } from './store/event-find.js';
export { readEventLog, EventLog, JsonLinesLog } from './store/event-log.js';
export { defaultStorePath } from './paths.js';
