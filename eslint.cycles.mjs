// The rule that keeps the modules free of import circles: a module that needs another is above it, never beside it.
// Every edge counts: `import type` too (a circle of types is still two concerns that cannot be read apart), and
// `require()` of a lazily loaded module. Only relative imports are followed (packages cannot import us back).
// Its own file, so a unit test can run it alone (test/unit/rules.test.ts).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';

const EDGE = /(?:\bimport|\bexport)\s[^;]*?\bfrom\s+['"](\.[^'"]+)['"]|\brequire\(\s*['"](\.[^'"]+)['"]\s*\)/gs;

/** The files a module imports (relative imports resolved as TypeScript resolves them: `.ts`, then `/index.ts`). */
function importsOf(file, text) {
  const out = new Set();
  for (const m of text.matchAll(EDGE)) {
    const base = normalize(join(dirname(file), m[1] ?? m[2]));
    const found = [`${base}.ts`, join(base, 'index.ts'), base].find((p) => p.endsWith('.ts') && existsSync(p));
    if (found) out.add(found);
  }
  return out;
}

const graph = new Map();
const edgesOf = (file) => {
  if (!graph.has(file)) graph.set(file, importsOf(file, existsSync(file) ? readFileSync(file, 'utf8') : ''));
  return graph.get(file);
};

/** A path of imports from `start` back to `start`, or null. */
function circleFrom(start, text) {
  graph.set(start, importsOf(start, text)); // the text as linted, which may not be saved yet
  const seen = new Set([start]);
  const search = (file, path) => {
    for (const next of edgesOf(file)) {
      if (next === start) return [...path, next];
      if (seen.has(next)) continue;
      seen.add(next);
      const found = search(next, [...path, next]);
      if (found) return found;
    }
    return null;
  };
  return search(start, [start]);
}

const noImportCycle = {
  meta: {
    type: 'problem',
    docs: { description: 'no import circle between modules (type-only imports and require() included)' },
    schema: [],
    messages: { cycle: 'import circle: {{path}}' },
  },
  create(context) {
    return {
      Program(node) {
        const file = context.physicalFilename;
        const path = circleFrom(file, context.sourceCode.text);
        if (path) {
          const root = context.cwd;
          context.report({ node, messageId: 'cycle', data: { path: path.map((p) => relative(root, p)).join(' → ') } });
        }
      },
    };
  },
};

export const noImportCycles = {
  files: ['src/**/*.ts', 'workflows/**/*.ts', 'activities/**/*.ts'],
  plugins: { architecture: { rules: { 'no-import-cycle': noImportCycle } } },
  rules: { 'architecture/no-import-cycle': 'error' },
};
