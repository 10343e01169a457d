import { Document, isCollection, isMap, isScalar, isSeq, type LineCounter, type Pair, type YAMLMap, type Node as YamlNode } from 'yaml';

/**
 * The YAML document, with each map's keys indexed: following a path costs its depth, not the size
 * of every map on the way. Looking each zod issue's key up by a scan made a book.yaml of 100,000
 * targets, each with an issue, take minutes (issue 27).
 */
export class YamlIndex {
  private readonly keys = new WeakMap<YAMLMap, Map<string, Pair>>();
  constructor(
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  /** The first pair of each key (as `find` would): keys compared as text, as toJS makes them. */
  private pairs(map: YAMLMap): Map<string, Pair> {
    let index = this.keys.get(map);
    if (!index) {
      index = new Map();
      for (const pair of map.items) {
        // A key that is a list or a map becomes its YAML text in toJS (`[ a, b ]`): indexed by that.
        const text = isScalar(pair.key)
          ? String(pair.key.value)
          : isCollection(pair.key)
            ? new Document(pair.key.toJSON(), { flow: true }).toString().trim()
            : undefined;
        if (text !== undefined && !index.has(text)) index.set(text, pair);
      }
      this.keys.set(map, index);
    }
    return index;
  }

  /** The node at `path`, whether all of it exists, and the line of the deepest key found on the way. */
  walk(path: readonly PropertyKey[]): { node: unknown; found: boolean; line: number } {
    let node: unknown = this.doc.contents;
    let line = 1;
    for (const segment of path) {
      if (isMap(node)) {
        const pair = this.pairs(node).get(String(segment));
        if (!pair) return { node: undefined, found: false, line };
        line = this.lineOf(pair.key as YamlNode, line);
        node = pair.value;
      } else if (isSeq(node)) {
        const index = Number(segment);
        const item = Number.isInteger(index) && index >= 0 ? (node.items[index] as YamlNode | undefined) : undefined;
        if (!item) return { node: undefined, found: false, line };
        line = this.lineOf(item, line);
        node = item;
      } else return { node: undefined, found: false, line };
    }
    return { node, found: true, line };
  }

  lineOf(node: YamlNode | null | undefined, otherwise = 1): number {
    return node?.range ? this.lines.linePos(node.range[0]).line : otherwise;
  }

  /** The line of the key at `path` in the YAML (the nearest existing parent when it is absent). */
  lineAt(path: readonly PropertyKey[]): number {
    return this.walk(path).line;
  }

  /** Whether `path` leads to a node (`key:` with nothing after it holds a null scalar: it does). */
  has(path: readonly PropertyKey[]): boolean {
    const { node, found } = this.walk(path);
    return found && node !== null && node !== undefined;
  }

  /** The plain value at `path`: a scalar's value, undefined for a collection or nothing. */
  valueAt(path: readonly PropertyKey[]): unknown {
    const { node } = this.walk(path);
    const value = isScalar(node) ? node.value : undefined;
    if (value === null || typeof value === 'object') return undefined;
    return value;
  }
}
