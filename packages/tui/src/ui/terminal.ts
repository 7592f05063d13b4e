// The terminal session around the UI (as Shopify cli-kit's FullScreen does
// on Ink): enter the alternate screen, and leave it — cursor shown, raw mode
// off — however the UI ends: q, ctrl-c, SIGTERM/SIGHUP, or a crash.

const ESC = '\u001b';
export const ENTER_ALT_SCREEN = `${ESC}[?1049h${ESC}[H${ESC}[2J`;
export const LEAVE_ALT_SCREEN = `${ESC}[?1049l`;
/** Bracketed paste: the terminal marks pasted text, so a paste is never taken for keys. */
export const PASTE_ON = `${ESC}[?2004h`;
export const PASTE_OFF = `${ESC}[?2004l`;
export const SHOW_CURSOR = `${ESC}[?25h`;
export const HIDE_CURSOR = `${ESC}[?25l`;
/** Clear the screen and go home: after a resize the old frame's lines may be anywhere. */
export const CLEAR_SCREEN = `${ESC}[2J${ESC}[H`;

export interface FullScreen {
  /** Leaves the alternate screen and gives the terminal back as it was; safe to call more than once. */
  restore(): void;
}

export function enterFullScreen(stdin: NodeJS.ReadStream, stdout: NodeJS.WriteStream): FullScreen {
  stdout.write(ENTER_ALT_SCREEN + HIDE_CURSOR + PASTE_ON);
  const onResize = () => stdout.write(CLEAR_SCREEN);
  // Before Ink's own resize listener, so Ink redraws onto a clean screen.
  stdout.prependListener('resize', onResize);
  let restored = false;
  return {
    restore() {
      if (restored) return;
      restored = true;
      stdout.off('resize', onResize);
      try {
        if (stdin.isTTY && stdin.isRaw) stdin.setRawMode(false);
      } catch {
        // stdin may already be closed; the terminal settings go with it
      }
      if (!stdout.destroyed && stdout.writable) stdout.write(PASTE_OFF + SHOW_CURSOR + LEAVE_ALT_SCREEN);
    },
  };
}
