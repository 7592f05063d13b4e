// A face that explains why a key's view says "may not rotate"
// (presentation's rotateRefusalText) says what the engine would answer the
// attempt: both come from policy's checkRotateKey, so a rule changed there
// changes both. Only the key's name differs ("The key", API key "…").
import { describe, expect, it } from 'vitest';
import { type KeyService, createMemoryStore, rotateRefusalText } from '../src/index.js';
import { refusalError, seededStore } from './helpers.js';

async function sameAnswer(actor: KeyService, actorName: string, id: string): Promise<void> {
  const view = await actor.getKey(id);
  expect(view.actions.rotate).toBe(false);
  const refused = await refusalError(actor.rotateKey(id));
  const faceSays = rotateRefusalText(view, actorName, { ok: true });
  expect(faceSays).toBe(refused.message.replace(/^The key/, `API key "${view.description}"`));
}

describe("the face's reason not to rotate", () => {
  it("is the engine's refusal: another's key, a revoked key, a key rotated already", async () => {
    const { alice, bob } = await seededStore({ store: createMemoryStore() });
    const bobs = await bob.generateKey({ description: 'deploy' });
    await sameAnswer(alice, 'alice', bobs.id);
    const revoked = await bob.generateKey({ description: 'old' });
    await alice.revokeKey(revoked.id);
    await sameAnswer(bob, 'bob', revoked.id);
    await bob.rotateKey(bobs.id);
    await sameAnswer(bob, 'bob', bobs.id);
  });
});
