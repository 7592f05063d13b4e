// How a child process of the conformance suite opens a PostgreSQL store.
import { createPostgresStore } from '../../src/store/postgres/store.js';

export const openStore = (location: string) => createPostgresStore(location);
