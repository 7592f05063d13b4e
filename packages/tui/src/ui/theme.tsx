// Colours, or none: NO_COLOR (https://no-color.org) turns every colour off.
// Meaning never rests on colour alone: statuses carry a symbol and a word,
// the cursor row is inverse, and selections are marked with a character.

import { createContext, useContext } from 'react';

export interface Theme {
  accent?: string;
  muted?: string;
  success?: string;
  warning?: string;
  danger?: string;
  status: { active?: string; expired?: string; revoked?: string; deleted?: string };
}

const COLOURED: Theme = {
  accent: 'cyan',
  muted: 'gray',
  success: 'green',
  warning: 'yellow',
  danger: 'red',
  status: { active: 'green', expired: 'yellow', revoked: 'red', deleted: 'gray' },
};

const PLAIN: Theme = { status: {} };

export function themeFor(env: NodeJS.ProcessEnv): Theme {
  return env.NO_COLOR !== undefined && env.NO_COLOR !== '' ? PLAIN : COLOURED;
}

const ThemeContext = createContext<Theme>(COLOURED);
export const ThemeProvider = ThemeContext.Provider;
export const useTheme = () => useContext(ThemeContext);
