// `R` on My keys: rotating a key. Asks how long the old token keeps working
// (the overlap, PT1H unless changed; PT0S ends it at once), then shows the
// new token once, as generating does. Whether the key may be rotated and
// whether the overlap is a duration is the engine's to say (checkRotate):
// its refusal is shown in the dialog with its code.

import type { GeneratedKey, KeyView } from '@keyward/core';
import { DEFAULT_ROTATION_OVERLAP, relativeTime, safeText } from '@keyward/core';
import { Text } from 'ink';
import { useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import { Field } from '../components/dialog.js';
import { NewToken } from '../components/new-token.js';
import { Prompt } from '../components/prompt.js';
import { dateTime } from '../text/format.js';


interface Rotated {
  key: GeneratedKey;
  /** When the old token stops working; unknown if the old key could not be read back. */
  oldExpiry?: string;
}

export function RotateDialog({ keyView: k, width, height, onClose }: { keyView: KeyView; width: number; height: number; onClose(): void }) {
  const { service, refresh, reloadIfUnknown } = useAppActions();
  const { now } = useAppState();
  const [rotated, setRotated] = useState<Rotated | null>(null);

  if (rotated) {
    const { key, oldExpiry } = rotated;
    return (
      <NewToken title="The rotated key's new token" token={key.token} id={key.id} description={key.description} expiry={key.expiry} width={width} height={height} onClose={onClose}>
        <Field label="old token" value={oldExpiry ? `works until ${dateTime(oldExpiry)} (${relativeTime(oldExpiry, now)}), then is refused` : 'works for the overlap, then is refused'} />
      </NewToken>
    );
  }

  const rotate = async (overlap: string) => {
    const key = await service.rotateKey(k.id, overlap.trim()).catch((e: unknown) => {
      // Shown by the prompt; the key may have been rotated all the same (OUTCOME_UNKNOWN): the list behind shows what is there.
      reloadIfUnknown(e);
      throw e;
    });
    refresh();
    // The new token is shown even if reading the old key back fails: it is never shown again.
    const oldExpiry = await service.getKey(k.id).then(
      (old) => old.expiry,
      () => undefined,
    );
    setRotated({ key, oldExpiry });
  };

  return (
    <Prompt
      title={`Rotate "${safeText(k.description)}"?`}
      label="Overlap"
      initial={DEFAULT_ROTATION_OVERLAP}
      placeholder="PT1H, 30m, PT0S"
      maxLength={64}
      width={width}
      height={height}
      check={(v) => (v.trim() === '' ? 'Type how long the old token keeps working, such as PT1H, 30m or PT0S (it stops at once).' : null)}
      onSubmit={rotate}
      onCancel={onClose}
    >
      <Text wrap="wrap">A new token replaces this key's. The old one keeps working for the overlap, so whatever holds it can be moved over; then it is refused.</Text>
    </Prompt>
  );
}
