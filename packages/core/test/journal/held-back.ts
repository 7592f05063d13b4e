// A method of a store's file layer that waits until the test lets it go, so
// the test can see what the store does meanwhile (a list asked while the
// journal's append is held, a second commit while the first's copy is).
import { vi } from 'vitest';

type Method = (...args: never[]) => Promise<unknown>;

/** Holds back `proto[name]` (every call, or only the next with `once`) until `release()`; then it does its work. */
export function holdBack<P extends object>(proto: P, name: { [K in keyof P]: P[K] extends Method ? K : never }[keyof P], opts: { once?: boolean } = {}): { release(): void } {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const original = proto[name] as unknown as Method;
  const spy = vi.spyOn(proto as Record<string, Method>, name as string);
  const waiting = async function (this: unknown, ...args: never[]) {
    await held;
    return original.apply(this, args);
  };
  if (opts.once) spy.mockImplementationOnce(waiting);
  else spy.mockImplementation(waiting);
  return { release };
}
