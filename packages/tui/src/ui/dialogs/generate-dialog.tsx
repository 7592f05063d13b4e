// `n` on My keys: a description, then a lifetime (a preset up to the tenant
// maximum, or typed), then the token — shown this once, with `c` to copy it
// (NewToken, which also says how the token is kept).

import { checkDescription, lifetimeChoices, refusalCode, refusalText, safeText } from '@keyward/core';
import { Box, Text } from 'ink';
import { useState } from 'react';
import { useAppActions, useAppState } from '../app-context.js';
import { Dialog } from '../components/dialog.js';
import { NewToken } from '../components/new-token.js';
import { TextInput } from '../components/text-input.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { type TextField, editText, textField } from '../state/text-field.js';
import { useTheme } from '../theme.js';
import { checkLifetime, choiceLabel, describeIso } from './lifetimes.js';

type Step =
  | { kind: 'describe'; field: TextField }
  | { kind: 'lifetime'; description: string; cursor: number; typing: TextField | null }
  | { kind: 'working'; description: string }
  | { kind: 'token'; token: string; id: string; description: string; expiry: string }
  | { kind: 'refused'; description: string; message: string }
  // The store or server lost the answer (OUTCOME_UNKNOWN): the key may be there, so no "try again" (a second key).
  | { kind: 'unknown'; message: string };

export function GenerateDialog({ width, height, onClose }: { width: number; height: number; onClose(): void }) {
  const { me } = useAppState();
  const { service, refresh } = useAppActions();
  const theme = useTheme();
  const max = me.settings.max_api_key_expiry;
  const { choices, defaultIndex } = lifetimeChoices(max);
  const [step, setStep] = useState<Step>({ kind: 'describe', field: textField() });

  const generate = (description: string, expiry: string) => {
    setStep({ kind: 'working', description });
    service.generateKey({ description, expiry }).then(
      (g) => {
        setStep({ kind: 'token', token: g.token, id: g.id, description: g.description, expiry: g.expiry });
        refresh();
      },
      (e: unknown) => {
        if (refusalCode(e) !== 'OUTCOME_UNKNOWN') return setStep({ kind: 'refused', description, message: refusalText(e) });
        setStep({ kind: 'unknown', message: refusalText(e) });
        // The list behind the dialog shows the key if it was made.
        refresh();
      },
    );
  };

  const descriptionProblem = step.kind === 'describe' ? checkDescription(step.field.value) : null;
  const typedProblem = step.kind === 'lifetime' && step.typing ? checkLifetime(step.typing.value, max) : null;

  useKeypress({ layer: Layer.dialog, modal: true, commands: ['submit', 'back'], active: step.kind !== 'token' }, (k, command) => {
    switch (step.kind) {
      case 'describe':
        if (command === 'back') onClose();
        else if (command === 'submit') {
          if (!descriptionProblem) setStep({ kind: 'lifetime', description: step.field.value.trim(), cursor: defaultIndex, typing: null });
        } else {
          const next = editText(step.field, k, 256);
          if (next) setStep({ ...step, field: next });
        }
        return true;
      case 'lifetime': {
        if (step.typing) {
          if (command === 'back') setStep({ ...step, typing: null });
          else if (command === 'submit') {
            if (!typedProblem) generate(step.description, step.typing.value.trim());
          } else {
            const next = editText(step.typing, k, 64);
            if (next) setStep({ ...step, typing: next });
          }
          return true;
        }
        const last = choices.length; // the "type a lifetime" row
        if (command === 'back') setStep({ kind: 'describe', field: textField(step.description) });
        else if (k.name === 'down' || k.name === 'j') setStep({ ...step, cursor: Math.min(last, step.cursor + 1) });
        else if (k.name === 'up' || k.name === 'k') setStep({ ...step, cursor: Math.max(0, step.cursor - 1) });
        else if (command === 'submit') {
          if (step.cursor === last) setStep({ ...step, typing: textField() });
          else generate(step.description, choices[step.cursor].iso);
        }
        return true;
      }
      case 'working':
        return true;
      case 'refused':
        if (command === 'back') onClose();
        else if (command === 'submit') setStep({ kind: 'describe', field: textField(step.description) });
        return true;
      case 'unknown':
        if (command === 'back' || command === 'submit') onClose();
        return true;
      case 'token':
        return true; // NewToken takes its keys
    }
  });

  const inner = Math.min(width, 76) - 4;
  switch (step.kind) {
    case 'describe':
      return (
        <Dialog title="New key — 1 of 2: description" width={width} height={height}>
          <Text>What is this key for? The description is how you will recognise it.</Text>
          <Box marginTop={1}>
            <Text bold>Description </Text>
            <TextInput field={step.field} width={inner - 12} placeholder="e.g. CI deploy" />
          </Box>
          <Text color={step.field.value && descriptionProblem ? theme.danger : theme.muted} wrap="wrap">
            {step.field.value && descriptionProblem ? refusalText(descriptionProblem) : 'enter  next      esc  cancel'}
          </Text>
        </Dialog>
      );
    case 'lifetime':
      return (
        <Dialog title="New key — 2 of 2: lifetime" width={width} height={height}>
          <Text wrap="truncate">
            {safeText(`For "${step.description}". The tenant allows at most ${describeIso(max)}.`)}
          </Text>
          <Text> </Text>
          {[...choices.map(choiceLabel), 'Type a lifetime…'].map((label, i) => (
            <Text key={label} inverse={i === step.cursor && !step.typing} bold={i === step.cursor}>
              {(i === step.cursor ? '› ' : '  ') + safeText(label)}
            </Text>
          ))}
          {step.typing ? (
            <>
              <Box marginTop={1}>
                <Text bold>Lifetime </Text>
                <TextInput field={step.typing} width={20} placeholder="12h, 7d, P2W" />
              </Box>
              <Text color={typedProblem && step.typing.value ? theme.danger : theme.muted} wrap="wrap">
                {typedProblem && step.typing.value ? safeText(typedProblem) : 'enter  generate      esc  back to the presets'}
              </Text>
            </>
          ) : (
            <Text color={theme.muted}>{'\n'}j/k choose      enter  generate      esc  back</Text>
          )}
        </Dialog>
      );
    case 'working':
      return (
        <Dialog title="New key" width={width} height={height}>
          <Text>Generating "{safeText(step.description)}"…</Text>
        </Dialog>
      );
    case 'refused':
      return (
        <Dialog title="The key was not generated" width={width} height={height} tone="danger">
          <Text color={theme.danger} wrap="wrap">
            {safeText(step.message)}
          </Text>
          <Text> </Text>
          <Text bold>enter  try again      esc  close</Text>
        </Dialog>
      );
    case 'unknown':
      return (
        <Dialog title="The key may have been made" width={width} height={height} tone="danger">
          <Text color={theme.danger} wrap="wrap">
            {safeText(step.message)}
          </Text>
          <Text> </Text>
          <Text bold>esc  close and look at your keys</Text>
        </Dialog>
      );
    case 'token':
      return <NewToken title="Your new key's token" token={step.token} id={step.id} description={step.description} expiry={step.expiry} width={width} height={height} onClose={onClose} />;
  }
}
