// Settings (admins): API keys on/off, maximum lifetime, maximum active keys
// per user, the excessive-use threshold and how long events are kept. A value is checked as it is
// typed with the engine's own rule (behaviour §5 messages), and the engine
// checks it again when it is saved.

import { checkSettings, refusalText, safeText, type SettingsPatch, type SettingsView } from '@keyward/core';
import { Box, Text } from 'ink';
import { useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import { TextInput } from '../components/text-input.js';
import { describeIso } from '../dialogs/lifetimes.js';
import { type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { type TextField, editText, textField } from '../state/text-field.js';
import { useTheme } from '../theme.js';
import type { ScreenProps } from './keys-screen.js';

interface Setting {
  name: keyof SettingsView;
  label: string;
  note: string;
  show(s: SettingsView): string;
  /** The value to send for typed text; text fields only. */
  parse?(text: string): unknown;
  /** The engine's name, for its validation rule. */
  rule?: string;
}

const whole = (text: string): unknown => (/^\s*-?\d+\s*$/.test(text) ? Number(text) : text);

const SETTINGS: Setting[] = [
  { name: 'api_keys_enabled', label: 'API keys', note: 'While off, nobody can generate a key; existing keys keep working.', show: (s) => (s.api_keys_enabled ? 'on' : 'off') },
  {
    name: 'max_api_key_expiry',
    label: 'Maximum key lifetime',
    note: 'ISO 8601 (P30D, P2W, PT12H) or 2w, 30d, 12h. Applies to keys generated from now on.',
    show: (s) => `${s.max_api_key_expiry} (${describeIso(s.max_api_key_expiry)})`,
    parse: (t) => t.trim(),
    rule: 'maxKeyLifetime',
  },
  {
    name: 'max_keys_per_user',
    label: 'Maximum active keys per user',
    note: '0 to 1000. Applies to new keys: keys already active above it stay active.',
    show: (s) => String(s.max_keys_per_user),
    parse: whole,
    rule: 'maxKeysPerUser',
  },
  {
    name: 'excessive_use_per_minute',
    label: 'Excessive use above (uses/minute)',
    note: 'A key used more than this in a minute, far above its daily average, is flagged.',
    show: (s) => String(s.excessive_use_per_minute),
    parse: whole,
    rule: 'excessiveUsePerMinute',
  },
  {
    name: 'events_retention',
    label: 'Events kept for',
    note: 'ISO 8601 (P90D) or 90d, 2w. Older events and usage totals are removed in the background.',
    show: (s) => `${s.events_retention} (${describeIso(s.events_retention)})`,
    parse: (t) => t.trim(),
    rule: 'eventsRetention',
  },
];

/** The engine's refusal for a typed value, as "message (CODE)", or null. */
export function checkTyped(setting: Setting, text: string): string | null {
  if (!setting.parse || !setting.rule) return null;
  const r = checkSettings({ [setting.rule]: setting.parse(text) });
  return r ? refusalText(r) : null;
}

const COMMANDS: readonly Command[] = ['edit', ...LIST_COMMANDS];

export function SettingsScreen({ width, height }: ScreenProps) {
  const { me } = useAppState();
  const { service, notify, refresh } = useAppActions();
  const theme = useTheme();
  const [cursor, setCursor] = useState(0);
  const [editing, setEditing] = useState<TextField | null>(null);
  const [refusal, setRefusal] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const settings = me.settings;
  const here = SETTINGS[cursor];
  const problem = editing ? checkTyped(here, editing.value) : null;

  const save = (patch: SettingsPatch) => {
    setBusy(true);
    service.updateSettings(patch).then(
      (s) => {
        setBusy(false);
        setEditing(null);
        setRefusal(null);
        notify({ kind: 'success', text: `${here.label} is now ${here.show(s)}.` });
        refresh();
      },
      (e: unknown) => {
        setBusy(false);
        setRefusal(refusalText(e));
      },
    );
  };

  useKeypress({ layer: Layer.screen, commands: COMMANDS, active: !editing }, (_k, command) => {
    if (busy) return true;
    switch (command) {
      case 'down':
      case 'pageDown':
      case 'last':
        setCursor((c) => (command === 'down' ? Math.min(SETTINGS.length - 1, c + 1) : SETTINGS.length - 1));
        setRefusal(null);
        return true;
      case 'up':
      case 'pageUp':
      case 'first':
        setCursor((c) => (command === 'up' ? Math.max(0, c - 1) : 0));
        setRefusal(null);
        return true;
      case 'edit':
        if (here.name === 'api_keys_enabled') save({ api_keys_enabled: !settings.api_keys_enabled });
        else setEditing(textField(safeText(String(settings[here.name]))));
        return true;
    }
    return false;
  });

  useKeypress({ layer: Layer.panel, modal: true, commands: ['submit', 'back'], active: !!editing }, (k, command) => {
    if (busy || !editing) return true;
    if (command === 'back') {
      setEditing(null);
      setRefusal(null);
    } else if (command === 'submit') {
      if (!problem) save({ [here.name]: here.parse!(editing.value) } as SettingsPatch);
    } else {
      const next = editText(editing, k, 64);
      if (next) {
        setEditing(next);
        setRefusal(null);
      }
    }
    return true;
  });

  const labelWidth = 36;
  const message = refusal ?? problem;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Settings</Text>
        <Text color={theme.muted}>{`  of tenant ${safeText(me.tenant.name)} · enter changes the setting under the cursor`}</Text>
      </Text>
      <Text> </Text>
      {SETTINGS.map((s, i) => {
        const at = i === cursor;
        return (
          <Box key={s.name} width={width}>
            <Text inverse={at && !editing} bold={at}>
              {(at ? '› ' : '  ') + s.label.padEnd(labelWidth - 2)}
            </Text>
            {at && editing ? (
              <TextInput field={editing} width={Math.max(8, width - labelWidth - 1)} />
            ) : (
              <Text color={s.name === 'api_keys_enabled' ? (settings.api_keys_enabled ? theme.success : theme.warning) : undefined}>{' ' + safeText(s.show(settings))}</Text>
            )}
          </Box>
        );
      })}
      <Text> </Text>
      <Text color={message ? theme.danger : theme.muted} wrap="wrap">
        {busy ? 'Saving…' : safeText(message ?? here.note)}
      </Text>
      {editing && !message ? <Text color={theme.muted}>enter save · esc cancel</Text> : null}
    </Box>
  );
}
