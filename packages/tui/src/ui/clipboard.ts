// Copying through OSC 52: the terminal itself puts the text on the local
// clipboard, so it works over SSH where no clipboard program can reach the
// user's machine. Terminals that ignore OSC 52 say nothing, so the status
// line always tells the user where else to find the text.

/** How likely the terminal is to honour OSC 52, judged from its environment. */
export type ClipboardSupport = 'likely' | 'unknown' | 'unlikely';

export interface Clipboard {
  readonly support: ClipboardSupport;
  /** Writes the text to the terminal's clipboard. */
  copy(text: string): void;
}

const ESC = '\u001b';
const BEL = '\u0007';

/** The OSC 52 sequence that sets the clipboard to `text`. */
export function osc52(text: string): string {
  return `${ESC}]52;c;${Buffer.from(text, 'utf8').toString('base64')}${BEL}`;
}

/** Wraps a sequence so that tmux (with allow-passthrough) or GNU screen hands it to the outer terminal. */
function passThrough(seq: string, env: NodeJS.ProcessEnv): string {
  if (env.TMUX) return `${ESC}Ptmux;${seq.replaceAll(ESC, ESC + ESC)}${ESC}\\`;
  if (env.STY) return `${ESC}P${seq}${ESC}\\`;
  return '';
}

export function clipboardSupport(env: NodeJS.ProcessEnv): ClipboardSupport {
  const term = env.TERM ?? '';
  const program = env.TERM_PROGRAM ?? '';
  if (term === 'dumb' || term === 'linux' || program === 'Apple_Terminal') return 'unlikely';
  // Multiplexers pass it on only when configured to.
  if (env.TMUX || env.STY) return 'unknown';
  if (env.KITTY_WINDOW_ID || env.WT_SESSION || env.ALACRITTY_WINDOW_ID) return 'likely';
  if (['iTerm.app', 'WezTerm', 'ghostty'].includes(program)) return 'likely';
  if (/^(xterm-kitty|alacritty|foot|wezterm|xterm-ghostty)/.test(term)) return 'likely';
  return 'unknown';
}

export function createClipboard(write: (data: string) => void, env: NodeJS.ProcessEnv = process.env): Clipboard {
  return {
    support: clipboardSupport(env),
    copy(text) {
      const seq = osc52(text);
      // Plain for terminals (and tmux with set-clipboard on), wrapped for a multiplexer's passthrough.
      write(seq + passThrough(seq, env));
    },
  };
}
