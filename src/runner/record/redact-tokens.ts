import { appendAll } from '../arrays.js';

/**
 * The secret tokens of a private file: what a shell tool may show of it later (a line, a value,
 * the value cut short, in another file) must be recognised without the file around it. A token
 * is a run of base64/hex characters; ordinary words (keys, names, paths) are not tokens, so they
 * stay readable wherever they show up.
 */

/** Characters of base64, base64url and hex, and so of almost every generated secret. */
export const RUN = /[A-Za-z0-9+/_-]{16,}={0,2}/g;
/** Shorter runs are words, or too short to tell from chance. */
export const MIN_TOKEN = 16;

export interface Token {
  text: string;
  /**
   * Only the whole token is a secret. Set for structured material (a PEM body line, base64 of a
   * PEM or of JSON): pieces of it (DER headers, an embedded public key) recur in certificates.
   */
  whole: boolean;
}

/** A word of an identifier: lowercase, ALLCAPS, camelCase or PascalCase of real words, a number, a version (`v1beta1`, `k8s`). */
const WORD = /^(?:[a-z]+|[A-Z]+|\d{1,4}|[A-Z]{0,4}[a-z]*(?:[A-Z][a-z]{2,})+|[a-z]{1,4}\d{1,3}(?:[a-z]{1,5}\d{0,2})?)$/;
/** Five consonants in a row (or a capital and four): rare in words, common in random letters. */
const VOWELLESS = /[b-df-hj-np-tv-xz]{5}|[B-DF-HJ-NP-TV-XZ]{5}|[A-Z][b-df-hj-np-tv-xz]{4}/;

/** camelCase humps of real words have a vowel and four letters on average. */
function humpsLikeWords(segment: string): boolean {
  if (!/[a-z]/.test(segment) || !/[A-Z]/.test(segment)) return true;
  const humps = segment.match(/[A-Z]+(?![a-z])|[A-Z]?[a-z]+/g) ?? [];
  return humps.every((h) => h.length < 4 || /[aeiouy]/i.test(h)) && segment.length >= 4 * humps.length;
}

/**
 * A name, not a secret: `kube-controller-manager`, `/etc/kubernetes/pki/ca`, `EncryptionConfiguration`,
 * `AWS_SECRET_ACCESS_KEY`. Random base64 of 16 bytes or more passes for one about once in a million;
 * random lowercase letters often do, which is why credential values are tokens whatever they look like.
 */
export function looksLikeName(run: string): boolean {
  if (run.includes('+') || VOWELLESS.test(run)) return false;
  return run
    .split(/[/_-]+/)
    .filter(Boolean)
    .every((s) => WORD.test(s) && humpsLikeWords(s));
}

/** Keys whose value is a credential (YAML, JSON, env files, INI), not a name of or a path to one. */
const CREDENTIAL_NAME = /(?:secret|token|passw|pwd|passphrase|api[-_]?key|private[-_]?key|access[-_]?key|key[-_]?data|credential|^auth$|^key$)/i;
const NOT_CREDENTIAL = /(?:[-_.](?:id|file|path|dir|name|ttl|type|usage|ref|groups?|mode)|(?:Id|File|Path|Dir|Name|Ref|Type))$/;
const ASSIGNED = /(?:^|[\s{,;])["']?([A-Za-z][A-Za-z0-9_.-]*)["']?[^\S\r\n]*[:=][^\S\r\n]*("(?:[^"\\\r\n]|\\.)*"|'[^'\r\n]*'|[^\s"',}#;][^\s,}#;]*)/gm;

/** The values of a text's credential fields (`secret: x`, `"password": "x"`, `API_TOKEN=x`), unquoted. */
export function credentialValues(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(ASSIGNED)) {
    const [, key = '', raw = ''] = m;
    if (!CREDENTIAL_NAME.test(key) || NOT_CREDENTIAL.test(key)) continue;
    const v = /^["']/.test(raw) ? raw.slice(1, -1) : raw;
    if (/^(?:true|false|null|~)$|^\$|^\{\{|^«/.test(v)) continue;
    // A path to the secret, not the secret (`client-key: /etc/kubernetes/pki/x.key`); a label key (`key: app.kubernetes.io/name`).
    const named = v.split(/[.:]/).every((part) => part === '' || looksLikeName(part));
    if ((/^(?:\/|\.\/|~\/)/.test(v) || /^(?:key|auth)$/i.test(key)) && named) continue;
    out.push(v);
  }
  return out;
}

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)(?:-----END \1-----|$)/g;
const PUBLIC_PEM = /CERTIFICATE|PUBLIC KEY|PARAMETERS/;
/** A JWT's header and claims are not secret (the shapes keep them readable too); its signature is. */
const JWT_PUBLIC = /\beyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*(?=\.)/g;

const PRINTABLE = /^[\t\n\r\x20-\x7e]+$/;

/** What a run of base64 decodes to, when it is text (a PEM, JSON, `user:password`). */
function decodedText(run: string): string | undefined {
  if (run.length < MIN_TOKEN || /[^A-Za-z0-9+/=_-]/.test(run)) return undefined;
  const text = Buffer.from(run, /[-_]/.test(run) ? 'base64url' : 'base64').toString('latin1');
  return text.length >= 12 && PRINTABLE.test(text) ? text : undefined;
}

/** An ASN.1 element's header and content lengths at `at` (short or one/two-byte long form). */
function element(bytes: Buffer, at: number): { head: number; size: number } | undefined {
  const first = bytes[at + 1] ?? 0xff;
  if (first < 0x80) return { head: 2, size: first };
  if (first === 0x81) return { head: 3, size: bytes[at + 2] ?? 0 };
  if (first === 0x82) return { head: 4, size: ((bytes[at + 2] ?? 0) << 8) + (bytes[at + 3] ?? 0) };
  return undefined;
}

/**
 * Binary that is DER, a key or certificate without its PEM armour: one SEQUENCE whose length is
 * all the bytes. A key starts with its version (INTEGER 0 or 1): structured, so secret whole
 * only; a certificate or public key starts with another SEQUENCE: public.
 */
function der(bytes: Buffer): 'key' | 'public' | undefined {
  const outer = bytes.length >= 48 && bytes[0] === 0x30 ? element(bytes, 0) : undefined;
  if (!outer || outer.head + outer.size !== bytes.length) return undefined;
  const at = outer.head;
  if (bytes[at] === 0x02 && bytes[at + 1] === 1 && (bytes[at + 2] ?? 9) <= 1) return 'key';
  const inner = bytes[at] === 0x30 ? element(bytes, at) : undefined;
  return inner && at + inner.head + inner.size <= bytes.length ? 'public' : undefined;
}

/**
 * The tokens of a private file's content. `credential`: the content is itself one secret value,
 * so its runs are tokens even when they read like names.
 */
export function secretTokens(content: string, credential = false, depth = 0): Token[] {
  const tokens: Token[] = [];
  const add = (text: string, whole: boolean) => {
    const t = text.replace(/=+$/, '');
    if (t.length >= MIN_TOKEN) tokens.push({ text: t, whole });
  };
  /** Structured base64, whole, and as `openssl base64`/PEM (64 a line) and `base64` (76) wrap it. */
  const addWrapped = (run: string) => {
    add(run, true);
    for (const width of [64, 76]) for (let i = 0; run.length > width && i < run.length; i += width) add(run.slice(i, i + width), true);
  };
  // PEM blocks: a private key's body lines are tokens; a certificate is public.
  let rest = content.replace(PEM_BLOCK, (_, kind: string, body: string) => {
    if (!PUBLIC_PEM.test(kind) || kind.includes('PRIVATE')) for (const line of body.split(/\r?\n/)) if (!line.includes(':')) add(line.trim(), true);
    return '\n';
  });
  rest = rest.replace(JWT_PUBLIC, ' ');
  const runs = new Set<string>();
  for (const m of rest.matchAll(RUN)) if (credential || !looksLikeName(m[0].replace(/=+$/, ''))) runs.add(m[0]);
  for (const v of credentialValues(rest)) for (const m of v.matchAll(RUN)) runs.add(m[0]);
  for (const run of runs) {
    const text = decodedText(run);
    if (text === undefined) {
      const bytes = Buffer.from(run, /[-_]/.test(run) ? 'base64url' : 'base64');
      const kind = der(bytes);
      if (kind === 'public') continue;
      if (kind === 'key') addWrapped(run);
      else add(run, false);
      // The same bytes as `xxd -p` or `od` would print them.
      if (/^[A-Za-z0-9+/_-]+={0,2}$/.test(run) && run.length % 4 !== 1 && bytes.length >= 8 && bytes.length <= 64 && !/^[0-9a-f]+$/i.test(run)) {
        add(bytes.toString('hex'), false);
        add(bytes.toString('hex').toUpperCase(), false);
      }
      continue;
    }
    // Base64 of text: the text's own secrets, unless it is only a certificate.
    const inner = depth < 2 ? secretTokens(text, !/-----BEGIN/.test(text), depth + 1) : [];
    const onlyPublic = /-----BEGIN/.test(text) && !/PRIVATE/.test(text);
    if (!onlyPublic) addWrapped(run);
    appendAll(tokens, inner);
  }
  return tokens;
}
