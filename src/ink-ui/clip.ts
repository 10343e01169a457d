/**
 * A line cut to what the terminal can show, before Ink sees it. Ink measures and tokenizes every
 * character it is given on every frame, even those `wrap="truncate-end"` then drops: a 400-character
 * log line in the daemons panel cost as much as the whole rest of the frame. Colours and control
 * characters from commands' output are dropped too (they would be cut mid-sequence).
 */
export function clip(text: string, width: number): string {
  const plain = text.includes('\u001b') || /[\t\r\u0000-\u0008\u000b-\u001f\u007f]/.test(text) ? clean(text) : text;
  return plain.length > width ? plain.slice(0, Math.max(0, width)) : plain;
}

function clean(text: string): string {
  return text
    .replace(/\u001b\[[0-9;?]*[ -/]*[@-~]/g, '')
    .replace(/\u001b[\]P^_][^\u0007\u001b]*(?:\u0007|\u001b\\)?/g, '')
    .replace(/\t/g, '  ')
    .replace(/[\u0000-\u001f\u007f]/g, '');
}
