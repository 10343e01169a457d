import { appendAll } from '../arrays.js';
import { applySpans, mergeSpans, REDACTED, type Span } from './redact-spans.js';

/**
 * Credentials known by their shape, in any text: each shape gives the spans of its secret part
 * only, so what names the secret (`token:`, `Authorization: Basic`, `--password`) stays readable.
 */

/** A value that is already blanked, or one that only points at a secret (`$TOKEN`, a boolean). */
const NOT_A_VALUE = '(?!«|\\$|(?:true|false)\\b)';

/** A private key, whole or cut short (`head`): its body, from the BEGIN line to the END line or to the last line of base64. */
const PEM =
  /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY( BLOCK)?-----(?:((?:(?!-----BEGIN )[\s\S])*?)-----END \1PRIVATE KEY\2-----|((?:(?:\r?\n|\\n)[^\S\r\n]*(?:\d+[^\S\r\n]+)?(?:[A-Za-z-]+: [^\r\n]*|[A-Za-z0-9+/=]{4,}|(?=\r?\n)))+))/g;
/**
 * `token: abc` and the other credential fields of a kubeconfig (YAML or JSON), and a bootstrap
 * token Secret's `token-secret`; after anything but a letter, `_` or `-` (`401token: abc`, output
 * run together, is a field too; `my_token:` and `bootstrap-token:` are other names).
 */
const KUBECONFIG_FIELD =
  /(?<=(?:^|[^A-Za-z_-])(?:token|token-secret|client-key-data|password|id-token|refresh-token|client-secret)"?\s*)(:\s*"?)([^\s",}«][^\s",}]*)/my;
/** `Bearer abc` anywhere, and whatever credential follows an Authorization header (Basic, Token, Digest…). */
const BEARER = /(\b[Bb]earer\s+)([A-Za-z0-9\-._~+/]+=*)/g;
const AUTH_SCHEME = '(?:[Bb]asic|[Bb]earer|[Tt]oken|[Dd]igest|[Nn]egotiate|[Aa]pi[Kk]ey|BASIC|BEARER)';
/** Not the scheme itself where its credential is already blanked (`Bearer «redacted»`): redacting twice changes nothing. */
const AUTHORIZATION = new RegExp(
  `((?:[Pp]roxy-)?(?:[Aa]uthorization|AUTHORIZATION)[^\\S\\n]*[:=][^\\S\\n]*(?:${AUTH_SCHEME}\\s+)?)(?!${AUTH_SCHEME}\\s+«)([^\\s'",;«][^\\s'",;]*)`,
  'g',
);
/** `Basic dXNlcjpwYXNz` outside a header: only when it decodes to `user:password`, so prose ("Basic usage") stays. */
const BASIC = /(\b[Bb]asic\s+)([A-Za-z0-9+/]{8,}={0,2})(?![A-Za-z0-9+/=])/g;
/** `--token=abc`, `--password abc` (not `--password-stdin`) and the other credential flags. */
const TOKEN_FLAG = /(--(?:token|password|passwd|client-secret|api-key|bootstrap-token|registry-password|docker-password)[= ])([^\s«]\S*)/g;
/** `docker login -p abc` (and its kin), `sshpass -p abc`: `-p` is a password only there. */
const LOGIN_P =
  /((?:login\b(?<=\b(?:docker|podman|nerdctl|buildah|skopeo|oras|crane|helm|registry)\s+login)[^\n]*?\s|\bsshpass\s+)-p[= ]?["']?)(?!«|\$|(?:true|false)\b)([^\s"'-]\S*?)(?=["']?(?:\s|$))/gm;
/**
 * `password=abc`, `DB_PASSWORD=abc`, `?token=abc&`, `--from-literal=api-key=abc`: an assignment to
 * a credential name (not inside base64, where `/sig==` is chance).
 */
const ASSIGNMENT = new RegExp(
  `(?<=(?<![A-Za-z0-9+/])(?:[Pp]ass(?:wor)?d|PASS(?:WOR)?D|[Pp]wd|PWD|(?:[Cc]lient_?)?[Ss]ecret|(?:CLIENT_?)?SECRET|[Tt]oken|TOKEN|(?:[Aa]pi|[Aa]ccess)_?[Kk]ey|apikey|(?:API|ACCESS)_?KEY|[Ss]ig(?:nature)?|SIG(?:NATURE)?))(=["']?)${NOT_A_VALUE}([^\\s&#'";=][^\\s&#'";]*)`,
  'y',
);
/** `curl -u user:password`: the password (elsewhere `-u 1000:1000` is a uid). */
const USER_FLAG = /(\b(?:curl|wget)\b[^\n]*?\s(?:-u|--user)[= ]?["']?[^\s:'"]+:)([^\s'"@«]+)/g;
/** `https://user:password@host`: the password. */
const URL_USERINFO = /(:\/\/[^\s:/@]+:)([^\s@/«]+)(?=@)/g;
/**
 * A JWT (service-account tokens): its signature is the credential; header and claims are not
 * secret and stay readable, so a block that decodes a token's claims still replays.
 */
const JWT = /\b(eyJ[A-Za-z0-9_-]*\.eyJ[A-Za-z0-9_-]*\.)([A-Za-z0-9_-]{16,})/g;
/** kube-apiserver --token-auth-file lines: `token,user,uid[,"group1,group2"]`. */
const TOKEN_CSV = /(?<=^([A-Za-z0-9._~+/=-]{16,})),([^,\s]+),([^,\s]+)(,[^\n]*)?$/my;

const isUserPassword = (b64: string) => /^[\x20-\x7e]+:[\x20-\x7e]*$/.test(Buffer.from(b64, 'base64').toString('latin1'));

/**
 * A shape: its regex, and the span of its secret in a match. Each regex starts with a literal
 * (fast to scan for) or is sticky and tried only where its `at` character is, a lookbehind naming
 * what comes before: a regex that starts with a character class would be tried at every position.
 */
type Shape = { re: RegExp; span: (m: RegExpExecArray) => Span | undefined; at?: string };

/** Group 1 names the secret, group 2 is the secret and ends the match. */
const value = (re: RegExp, keep: (secret: string) => boolean = () => true): Shape => ({
  re,
  span: (m) => {
    const secret = m[2] ?? '';
    const end = m.index + m[0].length;
    return secret && keep(secret) ? { start: end - secret.length, end, text: REDACTED } : undefined;
  },
});

const PEM_SHAPE: Shape = {
  re: PEM,
  span: (m) => {
    const at = m.index + m[0].indexOf('-----', 5) + 5;
    if (m[3] !== undefined) return { start: at, end: at + m[3].length, text: `\n${REDACTED}\n` };
    return { start: at, end: at + (m[4] ?? '').length, text: `\n${REDACTED}` };
  },
};

/** Every shape but the private key, whose secret is its body. */
const VALUE_SHAPES: Shape[] = [
  value(JWT),
  { ...value(KUBECONFIG_FIELD), at: ':' },
  value(BEARER),
  value(AUTHORIZATION),
  value(BASIC, isUserPassword),
  value(TOKEN_FLAG),
  value(LOGIN_P),
  { ...value(ASSIGNMENT), at: '=' },
  value(USER_FLAG),
  value(URL_USERINFO),
  {
    re: TOKEN_CSV,
    at: ',',
    span: (m) => ({ start: m.index - (m[1] ?? '').length, end: m.index, text: REDACTED }),
  },
];
const SHAPES = [PEM_SHAPE, ...VALUE_SHAPES];

/** The spans of every credential a text carries by its shape. */
export function shapeSpans(text: string, shapes: Shape[] = SHAPES): Span[] {
  const spans: Span[] = [];
  for (const shape of shapes) {
    // Again over the text with what was found masked, until nothing new: a match ends at its
    // secret and the next must start over (`curl -u a:X … -u b:Y` on one line, the second after
    // the first), so one pass could leave a secret that a second pass, over its output, would
    // blank. Redacting is then idempotent, as a replay's keys need.
    let scanned = text;
    // Where this shape found a secret already: a match over one is that secret again, not a new one.
    let taken: Uint8Array | undefined;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const all = scan(scanned, shape);
      const found = taken ? all.filter((s) => !overlaps(taken as Uint8Array, s)) : all;
      if (found.length === 0) break;
      taken ??= new Uint8Array(text.length);
      for (const s of found) taken.fill(1, s.start, s.end);
      appendAll(spans, found);
      scanned = masked(scanned, found);
    }
  }
  return spans;
}

const MAX_ROUNDS = 8;

function overlaps(taken: Uint8Array, s: Span): boolean {
  for (let i = s.start; i < s.end; i++) if (taken[i]) return true;
  return false;
}

/** `text` with each span's characters replaced by `«`, which no shape takes as the start of a secret. */
function masked(text: string, spans: Span[]): string {
  let out = '';
  let at = 0;
  for (const s of [...spans].sort((a, b) => a.start - b.start)) {
    if (s.start < at) continue;
    out += text.slice(at, s.start) + '«'.repeat(s.end - s.start);
    at = s.end;
  }
  return out + text.slice(at);
}

function scan(text: string, { re, span, at }: Shape): Span[] {
  const spans: Span[] = [];
  if (at !== undefined) {
    for (let i = text.indexOf(at); i !== -1; i = text.indexOf(at, i + 1)) {
      re.lastIndex = i;
      const m = re.exec(text);
      const s = m && span(m);
      if (s) spans.push(s);
    }
    return spans;
  }
  // exec on the shared regex, not matchAll: matchAll copies the regex, a cost per string.
  re.lastIndex = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const s = span(m);
    if (s) spans.push(s);
    if (m[0] === '') re.lastIndex++;
  }
  return spans;
}

/** The secret values a text carries by its shape (for registering them everywhere): private keys whole, the rest by value. */
export function secretsByShape(text: string): string[] {
  // A key's body: its BEGIN and END lines say what was there, and are no secret.
  const found = [...text.matchAll(PEM)].map((m) => (m[3] ?? m[4] ?? m[0]).trim());
  for (const s of shapeSpans(text, VALUE_SHAPES)) found.push(text.slice(s.start, s.end));
  // `--token=$TOKEN` in a script names a secret without holding it.
  return found.filter((s) => s !== REDACTED && !/^\$|\$[({]/.test(s));
}

/** Shapes only: what any text looks like with its credentials blanked. */
export function redactShapes(text: string): string {
  return applySpans(text, mergeSpans(shapeSpans(text)));
}
