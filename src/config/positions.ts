import {
  type Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  type LineCounter,
  type Node,
  type ParsedNode,
} from 'yaml';

export type PathSegment = string | number;

export interface Position {
  line: number;
  column: number;
}

/** `environments.production.servers[0].address` */
export function formatPath(path: readonly PathSegment[]): string {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out ? `.${seg}` : seg;
  }
  return out || '(root)';
}

/**
 * Find where a YAML path is written. For a path that does not exist (a missing key), answer the position of
 * the deepest part that does. With `key: true` answer the position of the key itself rather than its value.
 */
export function locate(
  doc: Document.Parsed,
  counter: LineCounter,
  path: readonly PathSegment[],
  options: { key?: boolean } = {},
): Position {
  let node: Node | null | undefined = doc.contents as ParsedNode | null;
  let best: Node | null | undefined = node;
  for (let i = 0; i < path.length && node; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find(
        (p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(seg),
      );
      if (!pair) break;
      if (last && options.key && isScalar(pair.key)) return at(counter, pair.key);
      best = (pair.value as Node | null) ?? (pair.key as Node);
      node = pair.value as Node | null;
    } else if (isSeq(node) && typeof seg === 'number') {
      const item = node.items[seg] as Node | undefined;
      if (!item) break;
      best = item;
      node = item;
    } else {
      break;
    }
  }
  return best ? at(counter, best) : { line: 1, column: 1 };
}

function at(counter: LineCounter, node: Node): Position {
  const offset = node.range?.[0] ?? 0;
  const { line, col } = counter.linePos(offset);
  return { line, column: col };
}
