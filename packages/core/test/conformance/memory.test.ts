// The conformance suite on the memory store.
import { MemoryStore } from '../../src/store/memory.js';
import { describeStoreConformance } from './index.js';

describeStoreConformance('memory', { create: async () => new MemoryStore() });
