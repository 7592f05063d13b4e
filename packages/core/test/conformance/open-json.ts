// How a child process of the conformance suite opens a JSON store.
import { createJsonFileStore } from '../../src/store/json/store.js';

export const openStore = (location: string) => createJsonFileStore(location, { onProblem: () => {} });
