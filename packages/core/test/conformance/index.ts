// The store conformance suite: the same tests for every adapter of the store
// boundary (memory, JSON journal, PostgreSQL). An adapter's test file calls
// `describeStoreConformance` with a factory; file-backed and database stores
// also call `describeStoreAcrossProcesses` with the module a child process
// opens the store through.
export { describeStoreConformance, type StoreFactory } from './rules.js';
export { describeStoreAcrossProcesses, type ProcessStoreFactory } from './processes.js';
