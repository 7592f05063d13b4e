import { describe, expect, it } from 'vitest';
import { clipboardSupport, createClipboard, osc52 } from '../src/ui/clipboard.js';

const token = 'kw_0123456789abcdef01234567_abcdefghijklmnopqrstuvwxyz234567deadbeef';

describe('copying through OSC 52', () => {
  it('writes the text base64-encoded in one OSC 52 sequence', () => {
    const seq = osc52(token);
    const m = /^\u001b\]52;c;([A-Za-z0-9+/=]+)\u0007$/.exec(seq);
    expect(m).not.toBeNull();
    expect(Buffer.from(m![1], 'base64').toString('utf8')).toBe(token);
  });

  it('also wraps it for tmux passthrough, escapes doubled', () => {
    const out: string[] = [];
    createClipboard((s) => out.push(s), { TMUX: '/tmp/tmux-0/default,1,0' }).copy('id');
    expect(out).toHaveLength(1);
    expect(out[0].startsWith(osc52('id'))).toBe(true);
    expect(out[0].slice(osc52('id').length)).toBe('\u001bPtmux;\u001b\u001b]52;c;aWQ=\u0007\u001b\\');
  });

  it('judges from the environment whether the terminal will honour it', () => {
    expect(clipboardSupport({ TERM: 'xterm-kitty' })).toBe('likely');
    expect(clipboardSupport({ TERM_PROGRAM: 'iTerm.app', TERM: 'xterm-256color' })).toBe('likely');
    expect(clipboardSupport({ TERM: 'linux' })).toBe('unlikely');
    expect(clipboardSupport({ TERM_PROGRAM: 'Apple_Terminal' })).toBe('unlikely');
    expect(clipboardSupport({ TERM: 'xterm-256color', TMUX: 'x' })).toBe('unknown');
    expect(clipboardSupport({ TERM: 'xterm-256color' })).toBe('unknown');
  });
});
