import { redactShapes } from './record/redact-shapes.js';

/**
 * How an error quotes a value of the reader's: as JSON, credentials blanked by their shape, and
 * cut short, so that a private key or a kubeconfig pasted where a path goes is not printed back.
 */
export const ECHO_CHARS = 60;

export function echoed(value: unknown): string {
  const json = redactShapes(JSON.stringify(value) ?? String(value));
  return json.length <= ECHO_CHARS ? json : `${json.slice(0, ECHO_CHARS)}… (${json.length} characters)`;
}

/**
 * Text of the reader's (or a daemon's) set inside a sentence: JSON-escaped (a newline as `\n`, a
 * control as `\u001b`), credentials blanked by their shape, cut at `max` characters.
 */
export function escapedCut(text: string, max: number): string {
  const escaped = redactShapes(JSON.stringify(text).slice(1, -1));
  return escaped.length <= max ? escaped : `${escaped.slice(0, max)}… (${escaped.length} characters)`;
}

/** A key named back to the reader: a name as book.yaml's own are, quoted; anything else only said to be there. */
export function echoedKey(key: string): string {
  return /^[A-Za-z0-9_.-]{1,40}$/.test(key) ? `"${key}"` : `(a key that is not a name, ${key.length} characters)`;
}
