// The site's colours (issue 29): every text colour against every background it sits on, light and
// dark, at least 4.5:1 (WCAG 2 AA), computed from the stylesheet itself: its custom properties, the
// highlight.js token colours among them, and every rule that sets both a colour and a background.
import { describe, expect, it } from 'vitest';
import { STYLE_CSS } from '../../src/render/assets.js';

/** The custom properties of the first `:root { … }` after `from` in the stylesheet. */
function rootVars(css: string, from = 0): Map<string, string> {
  const start = css.indexOf(':root {', from);
  const body = css.slice(start + ':root {'.length, css.indexOf('}', start));
  return new Map([...body.matchAll(/--([\w-]+):\s*([^;]+);/g)].map(([, name, value]) => [name as string, (value as string).trim()]));
}

const light = rootVars(STYLE_CSS);
const darkAt = STYLE_CSS.indexOf('@media screen and (prefers-color-scheme: dark)');
const dark = new Map([...light, ...rootVars(STYLE_CSS, darkAt)]);

function rgb(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  const full = h.length === 3 ? [...h].map((c) => c + c).join('') : h;
  return [0, 2, 4].map((i) => Number.parseInt(full.slice(i, i + 2), 16)) as [number, number, number];
}

/** WCAG 2 relative luminance and contrast ratio. */
function contrast(a: string, b: string): number {
  const lum = (hex: string) => {
    const [r, g, bl] = rgb(hex).map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    }) as [number, number, number];
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x) as [number, number];
  return (hi + 0.05) / (lo + 0.05);
}

/** Text (a custom property) on the backgrounds it sits on, by where the stylesheet puts it. */
const SITS_ON: [string, string[]][] = [
  ['fg', ['bg', 'panel', 'code-bg', 'current', 'd-node', 'd-box', 'd-static', 'warn-bg']],
  ['muted', ['bg', 'panel', 'code-bg', 'd-node', 'd-box', 'd-static']],
  ['accent', ['bg', 'panel']],
  ['ok', ['bg']],
  ['bad', ['bg', 'bad-bg']],
  ['warn', ['bg', 'warn-bg']],
  ['d-new', ['bg', 'panel', 'd-node', 'd-box', 'd-static']],
  ['out-fg', ['out-bg']],
  ['out-err', ['out-bg']],
  ['out-cmd', ['out-bg']],
  ['out-meta', ['out-bg']],
];

describe('the stylesheet: every text at least 4.5:1 against its background, light and dark', () => {
  for (const [scheme, vars] of [
    ['light', light],
    ['dark', dark],
  ] as const) {
    const value = (name: string) => {
      const v = vars.get(name);
      if (!v) throw new Error(`--${name} is not defined in the ${scheme} scheme`);
      return v;
    };

    it(`${scheme}: text on the backgrounds it sits on`, () => {
      const low: string[] = [];
      for (const [fg, bgs] of SITS_ON)
        for (const bg of bgs) if (contrast(value(fg), value(bg)) < 4.5) low.push(`--${fg} on --${bg}: ${contrast(value(fg), value(bg)).toFixed(2)}`);
      expect(low).toEqual([]);
    });

    it(`${scheme}: every highlight.js token colour on code`, () => {
      const tokens = [...vars.keys()].filter((k) => k.startsWith('hl-'));
      expect(tokens.length).toBeGreaterThanOrEqual(10);
      // `${…}` in template strings and YAML's dashes among them (issue 29 measured 1.18:1 and 2.3:1).
      expect(tokens).toEqual(expect.arrayContaining(['hl-subst', 'hl-bullet']));
      const low = tokens.filter((t) => contrast(value(t), value('code-bg')) < 4.5).map((t) => `--${t}: ${contrast(value(t), value('code-bg')).toFixed(2)}`);
      expect(low).toEqual([]);
    });

    it(`${scheme}: every rule that sets a colour and a background (badges, panels, buttons)`, () => {
      const rules = [...STYLE_CSS.matchAll(/([^{}]+)\{([^{}]*)\}/g)].map(([, selector, body]) => ({
        selector: (selector as string).trim(),
        body: body as string,
      }));
      const pairs = rules.flatMap(({ selector, body }) => {
        const color = /(?:^|;)\s*color:\s*var\(--([\w-]+)\)/.exec(body)?.[1];
        const bg = /background(?:-color)?:\s*var\(--([\w-]+)\)/.exec(body)?.[1];
        return color && bg ? [{ selector, color, bg }] : [];
      });
      expect(pairs.map((p) => p.selector)).toEqual(expect.arrayContaining(['.badge.runs', '.badge.writes', '.badge.fails', 'pre.output']));
      const low = pairs
        .filter((p) => contrast(value(p.color), value(p.bg)) < 4.5)
        .map((p) => `${p.selector}: --${p.color} on --${p.bg} ${contrast(value(p.color), value(p.bg)).toFixed(2)}`);
      expect(low).toEqual([]);
    });
  }

  it('uses no colour outside its custom properties (so the checks above see every one)', () => {
    const outsideRoots = STYLE_CSS.replace(/:root \{[^}]*\}/g, '');
    expect(outsideRoots.match(/#[0-9a-fA-F]{3,8}\b|rgba?\(/g) ?? []).toEqual([]);
    // Dark redefines every colour light has.
    expect([...rootVars(STYLE_CSS, darkAt).keys()].sort()).toEqual([...light.keys()].sort());
  });
});
