// The baseline for the terminal UI's start-up: the smallest Ink app there is,
// one line of text, staying up (as a UI does) until it is told to quit.
import { Text, render, useApp, useInput } from 'ink';
import { createElement } from 'react';

function Hello() {
  const { exit } = useApp();
  useInput((input) => {
    if (input === 'q') exit();
  });
  return createElement(Text, null, 'Hello from Ink');
}

render(createElement(Hello));
