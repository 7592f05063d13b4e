// How a child process of the conformance suite opens a JSON store.
import { createJsonStore } from '../../src/store/json/store.js';

export const openStore = (location: string) => createJsonStore(location, { onProblem: () => {} });
