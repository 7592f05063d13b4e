// `?`: every key that worked on the screen when help was asked for, with a
// sentence each, read from the same table the handlers use.

import { Box, Text } from 'ink';
import { BINDINGS, type Command, LIST_COMMANDS } from '../keys/bindings.js';
import { Layer, useKeypress } from '../keys/keypress-layer.js';
import { Dialog } from './dialog.js';

interface HelpLine {
  shown: string;
  help: string;
}

const KEYS_WIDTH = 18;
const HELP_WIDTH = 100;

const SCREEN_KEYS: readonly Command[] = ['goKeys', 'goEvents', 'goSettings', 'goUsers', 'goMyKeys'];

/** One line per command, movement and screen switching folded into one line each. */
export function helpLines(commands: readonly Command[]): HelpLine[] {
  const lines: HelpLine[] = [];
  const moves = commands.filter((c) => LIST_COMMANDS.includes(c));
  const screens = commands.filter((c) => SCREEN_KEYS.includes(c));
  for (const c of commands) {
    if (c === moves[0]) lines.push({ shown: 'j k g G PgUp PgDn', help: 'Move down, up, to the first or last row, a page down or up' });
    else if (c === screens[0]) lines.push({ shown: screens.map((s) => BINDINGS[s].shown).join(' '), help: 'Open ' + screens.map((s) => BINDINGS[s].label).join(', ') });
    else if (!moves.includes(c) && !screens.includes(c)) lines.push({ shown: BINDINGS[c].keys.map((k) => k.replace('ctrl+', 'ctrl-')).join(' '), help: BINDINGS[c].help });
  }
  return lines;
}

export function Help({ title, commands, width, height, onClose }: { title: string; commands: Command[]; width: number; height: number; onClose(): void }) {
  // `?` and `q` close it too: a person pressing them again means "away with this".
  useKeypress({ layer: Layer.dialog, modal: true, commands: ['close'] }, (k, command) => {
    if (command === 'close' || k.name === '?' || k.name === 'q') onClose();
    return true;
  });
  // Wide enough for every line at 100 columns; narrower terminals wrap a line rather than cut it.
  const w = Math.min(width, HELP_WIDTH);
  const textWidth = Math.max(10, w - 4 - KEYS_WIDTH);
  const shown: HelpLine[] = [];
  let used = 0;
  for (const l of helpLines(commands)) {
    const rows = Math.ceil(l.help.length / textWidth);
    if (used + rows > Math.max(1, height - 3)) break;
    shown.push(l);
    used += rows;
  }
  return (
    <Dialog title={`Help: ${title} — esc closes`} width={width} height={height} maxWidth={HELP_WIDTH}>
      {shown.map((l) => (
        <Box key={l.shown}>
          <Box width={KEYS_WIDTH} flexShrink={0}>
            <Text bold wrap="truncate">
              {l.shown}
            </Text>
          </Box>
          <Box width={textWidth}>
            <Text wrap="wrap">{l.help}</Text>
          </Box>
        </Box>
      ))}
    </Dialog>
  );
}
