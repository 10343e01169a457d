/**
 * Secrets never reach a transcript: known shapes (PEM private keys, kubeconfig credentials, bearer
 * tokens, token-auth CSV lines, JWT signatures) and the exact values the book wrote to files nobody else may read
 * (mode without group/other read bits), wherever those values show up later.
 */

export const REDACTED = '«redacted»';

/** The shorter a registered value, the likelier it occurs by chance; below this it is not a secret. */
const MIN_SECRET = 8;

const PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?-----END \1PRIVATE KEY-----/g;
/** `token: abc` and the other credential fields of a kubeconfig (YAML or JSON), and a bootstrap token Secret's `token-secret`. */
const KUBECONFIG_FIELD = /((?:^|[\s{,"])(?:token|token-secret|client-key-data|password|id-token|refresh-token|client-secret)"?\s*:\s*"?)([^\s",}«][^\s",}]*)/gm;
/** Object keys whose string value is a credential (the fields KUBECONFIG_FIELD finds in text). */
const CREDENTIAL_KEY = /^(?:token|token-secret|client-key-data|password|id-token|refresh-token|client-secret)$/;
const BEARER = /(\b[Bb]earer\s+)([A-Za-z0-9\-._~+/]+=*)/g;
const TOKEN_FLAG = /(--(?:token|password)[= ])(\S+)/g;
/**
 * A JWT (service-account tokens): its signature is the credential; header and claims are not
 * secret and stay readable, so a block that decodes a token's claims still replays.
 */
const JWT = /\b(eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.)([A-Za-z0-9_-]{16,})/g;
/** kube-apiserver --token-auth-file lines: `token,user,uid[,"group1,group2"]`. */
const TOKEN_CSV = /^([A-Za-z0-9._~+/=-]{16,}),([^,\s]+),([^,\s]+)(,[^\n]*)?$/gm;

/** The secret values a text carries by its shape (for registering them everywhere). */
export function secretsByShape(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(PEM)) found.push(m[0]);
  for (const m of text.matchAll(KUBECONFIG_FIELD)) if (m[2]) found.push(m[2]);
  for (const m of text.matchAll(BEARER)) if (m[2]) found.push(m[2]);
  for (const m of text.matchAll(TOKEN_CSV)) if (m[1]) found.push(m[1]);
  for (const m of text.matchAll(JWT)) if (m[2]) found.push(m[2]);
  return found.filter((s) => s !== REDACTED && s.length >= MIN_SECRET);
}

/** Shapes only: what any text looks like with its credentials blanked. */
export function redactShapes(text: string): string {
  return text
    .replace(JWT, (_, head: string) => `${head}${REDACTED}`)
    .replace(PEM, (_, kind: string) => `-----BEGIN ${kind}PRIVATE KEY-----\n${REDACTED}\n-----END ${kind}PRIVATE KEY-----`)
    .replace(KUBECONFIG_FIELD, (_, head: string) => `${head}${REDACTED}`)
    .replace(BEARER, (_, head: string) => `${head}${REDACTED}`)
    .replace(TOKEN_FLAG, (_, head: string) => `${head}${REDACTED}`)
    .replace(TOKEN_CSV, (_, _token: string, user: string, uid: string, rest: string | undefined) => `${REDACTED},${user},${uid}${rest ?? ''}`);
}

/** A file mode that lets only its owner read: its content is a secret. */
export function isPrivateMode(mode: number | undefined): boolean {
  return mode !== undefined && (mode & 0o044) === 0;
}

export class Redactor {
  private readonly secrets = new Set<string>();
  private sorted: string[] = [];

  /** Registers a value to blank wherever it appears (whitespace around it ignored). */
  register(value: string): void {
    const v = value.trim();
    if (v.length < MIN_SECRET || v === REDACTED || this.secrets.has(v)) return;
    this.secrets.add(v);
    // Longest first, so a file's whole content goes before the token inside it.
    this.sorted = [...this.secrets].sort((a, b) => b.length - a.length);
  }

  /** A file written on the machine: private files are secrets, and so is every credential inside one. */
  registerFile(content: string, mode: number | undefined): boolean {
    for (const s of secretsByShape(content)) this.register(s);
    if (!isPrivateMode(mode)) return false;
    this.register(content);
    return true;
  }

  get size(): number {
    return this.secrets.size;
  }

  redact(text: string): string {
    let out = text;
    for (const secret of this.sorted) if (out.includes(secret)) out = out.split(secret).join(REDACTED);
    return redactShapes(out);
  }

  /** Every string in a JSON-like value, keys included. */
  redactDeep<T>(value: T): T {
    const walk = (v: unknown): unknown => {
      if (typeof v === 'string') return this.redact(v);
      if (Array.isArray(v)) return v.map(walk);
      if (v && typeof v === 'object') {
        const out: Record<string, unknown> = {};
        // A credential field's value is a secret whatever it looks like (a bootstrap token Secret's `token-secret`).
        for (const [k, x] of Object.entries(v)) out[this.redact(k)] = typeof x === 'string' && CREDENTIAL_KEY.test(k) && x !== '' ? REDACTED : walk(x);
        return out;
      }
      return v;
    };
    return walk(value) as T;
  }
}
