/** JSON lines, in order. Pure; a line cut short (a concurrent write, a stopped process) or not JSON is skipped. */
export function parseJsonLines<T>(text: string): T[] {
  const items: T[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      items.push(JSON.parse(line) as T);
    } catch {
      // a partial last line
    }
  }
  return items;
}
