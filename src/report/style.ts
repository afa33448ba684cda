/** Colours for the terminal report; with colour off every helper is the identity. */
import { styleText } from 'node:util';
import type { Severity, Verdict } from '../rules/types.js';

type Format = Parameters<typeof styleText>[0];

export type Painter = (format: Format, text: string) => string;

export function painter(color: boolean): Painter {
  if (!color) return (_format, text) => text;
  // The caller decided on colour already; never let styleText second-guess it from the stream.
  return (format, text) => styleText(format, text, { validateStream: false });
}

export const SEVERITY_FORMAT: Record<Severity, Format> = {
  critical: 'magenta',
  high: 'red',
  medium: 'yellow',
  low: 'cyan',
  info: 'gray',
};

export const VERDICT_FORMAT: Record<Verdict, Format> = {
  block: 'red',
  review: 'yellow',
  allow: 'green',
};
