// A store after close() answers nothing more: every read and write is
// refused with UNAVAILABLE (SPEC §5: nothing was changed), in the same words
// for every adapter (the conformance suite holds each to it). A caller that
// still asks has a bug of its own, and is told so, rather than the store
// being opened again behind the back of whoever closed it (a journal handle,
// a lock, a connection that nobody closes any more).
import { KeywardError } from '../refusal.js';

export function storeClosed(location: string): KeywardError {
  return new KeywardError('UNAVAILABLE', `The store ${location} was closed in this process; nothing more is read from it or written to it here.`);
}
