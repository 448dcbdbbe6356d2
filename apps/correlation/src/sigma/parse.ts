import { LineCounter, isMap, isScalar, isSeq, parseAllDocuments, type Node } from 'yaml';

/** One YAML document of a Sigma file, with a way to find the line of any path in it. */
export interface SigmaDocument {
  file: string;
  /** 1-based position of the document in its file (multi-document files). */
  index: number;
  /** Line where the document starts. */
  line: number;
  /** The document as plain data, or null when it could not be parsed. */
  value: unknown;
  /** Why the document could not be parsed (with value null). */
  error?: string;
  /** Line of the deepest existing node on `path` (the document's first line when none). */
  lineOf(path: ReadonlyArray<string | number>): number;
}

/** Largest Sigma file the importer reads. */
export const MAX_SIGMA_FILE_BYTES = 1024 * 1024;

/** Splits a Sigma file into documents (`---`), each parsed on its own so one bad document does not hide the others. */
export function parseSigmaFile(file: string, text: string): SigmaDocument[] {
  const lc = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  const line = (offset: number | undefined) => (offset === undefined ? 1 : lc.linePos(offset).line);
  return list.map((doc, i) => {
    const start = line(doc.range?.[0]);
    const lineOf = (path: ReadonlyArray<string | number>): number => {
      let node: unknown = doc.contents;
      let best = start;
      for (const seg of path) {
        if (isMap(node)) {
          const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
          if (!pair) break;
          const k = pair.key as Node;
          if (k.range) best = line(k.range[0]);
          node = pair.value;
        } else if (isSeq(node) && typeof seg === 'number') {
          const item = node.items[seg] as Node | undefined;
          if (!item) break;
          if (item.range) best = line(item.range[0]);
          node = item;
        } else break;
      }
      return best;
    };
    if (doc.errors.length > 0) {
      const e = doc.errors[0]!;
      return { file, index: i + 1, line: line(e.pos[0]), value: null, error: e.message.split('\n')[0]!.slice(0, 300), lineOf };
    }
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (err) {
      return { file, index: i + 1, line: start, value: null, error: (err as Error).message.slice(0, 300), lineOf };
    }
    return { file, index: i + 1, line: start, value, lineOf };
  });
}
