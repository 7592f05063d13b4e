// The public surface of the engine. Faces import from here only.
export * from './domain.js';
export * from './refusal.js';
export * from './clock.js';
export * from './duration.js';
export * from './token.js';
export * from './policy.js';
export * from './views.js';
export * from './service.js';
export { newEvent, parseSince, queryEvents, pageOf, clampLimit, checkEventType } from './events.js';
export { parseSort, checkStatus } from './key-query.js';
export { createRemoteService, type RemoteOptions } from './remote-service.js';
export { Engine, createEngine, createLocalService, initStore, type EngineOptions, type VerifyOutcome, type InitOptions } from './engine.js';
export type { Store, Transaction } from './store/types.js';
export { createJsonFileStore, JsonFileStore, eventLogPathFor, type JsonFileStoreOptions } from './store/json-file.js';
export { createMemoryStore, MemoryStore } from './store/memory.js';
export { readEventLog } from './store/event-log.js';
export { defaultStorePath } from './paths.js';
