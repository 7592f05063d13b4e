// Screens unmount when another one opens; what a person set up on them (the
// search, the filter, where the cursor was) is kept here and given back when
// they return.

import { createContext, useContext, useEffect, useReducer, useState } from 'react';

export type Retained = Map<string, unknown>;

const RetainedContext = createContext<Retained>(new Map());
export const RetainedProvider = RetainedContext.Provider;

export function useRetainedState<T>(name: string, initial: T): [T, (v: T | ((prev: T) => T)) => void] {
  const memory = useContext(RetainedContext);
  const [value, setValue] = useState<T>(() => (memory.has(name) ? (memory.get(name) as T) : initial));
  useEffect(() => {
    memory.set(name, value);
  }, [memory, name, value]);
  return [value, setValue];
}

export function useRetainedReducer<S, A>(name: string, reducer: (state: S, action: A) => S, initial: S): [S, (a: A) => void] {
  const memory = useContext(RetainedContext);
  const [state, dispatch] = useReducer(reducer, undefined, () => (memory.has(name) ? (memory.get(name) as S) : initial));
  useEffect(() => {
    memory.set(name, state);
  }, [memory, name, state]);
  return [state, dispatch];
}
