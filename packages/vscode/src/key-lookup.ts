// Looks keys up by id for the tokens found in documents, once per id until the
// next refresh, so typing in a file does not ask the store on every keystroke.

import { type KeyService, refusalCode, refusalText } from '@keyward/core';
import type { KeyLookup } from './token-findings.js';

export class KeyLookups {
  private readonly cache = new Map<string, Promise<KeyLookup>>();

  constructor(private readonly service: () => KeyService | undefined) {}

  lookup(keyId: string): Promise<KeyLookup> {
    let hit = this.cache.get(keyId);
    if (!hit) {
      hit = this.ask(keyId);
      this.cache.set(keyId, hit);
    }
    return hit;
  }

  /** What was looked up already, without asking again (for hovers while a lookup runs). */
  known(keyId: string): Promise<KeyLookup> | undefined {
    return this.cache.get(keyId);
  }

  clear(): void {
    this.cache.clear();
  }

  private async ask(keyId: string): Promise<KeyLookup> {
    const service = this.service();
    if (!service) return { kind: 'unavailable', reason: 'not connected to Keyward' };
    try {
      return { kind: 'found', key: await service.getKey(keyId) };
    } catch (e) {
      if (refusalCode(e) === 'KEY_NOT_FOUND') return { kind: 'unknown' };
      return { kind: 'unavailable', reason: refusalText(e) };
    }
  }
}
