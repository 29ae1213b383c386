/** The documentation cannot drift from the code: the CLI reference, the defaults, the README and its snippet. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cliReference } from '../../src/cli/reference';
import { configDefaults } from '../../src/config';

const root = join(__dirname, '../..');
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

it('docs/cli.md is the --help of every command (`npm run docs:cli` rewrites it)', () => {
  expect(read('docs/cli.md')).toBe(cliReference());
});

it('docs/configuration.md names every key of the schema with its default', () => {
  const defaults = configDefaults() as unknown as Record<string, Record<string, unknown>>;
  const flat = new Map<string, unknown>();
  const walk = (value: unknown, path: string): void => {
    if (value && typeof value === 'object' && !Array.isArray(value) && !path.startsWith('agents'))
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k);
    else if (!path.startsWith('agents')) flat.set(path, value);
  };
  walk(defaults, '');
  const documented = new Map(
    [...read('docs/configuration.md').matchAll(/^- `([a-z_.]+)` \(([^)]*)\)/gm)].map((m) => [m[1]!, m[2]!]),
  );
  for (const [key, value] of flat)
    expect([key, documented.get(key)]).toEqual([key, Array.isArray(value) ? JSON.stringify(value) : String(value)]);
  expect([...documented.keys()].filter((k) => !flat.has(k))).toEqual([]);
});

it('the README is short and reads in an 80-column terminal', () => {
  const readme = read('README.md');
  expect(Buffer.byteLength(readme)).toBeLessThanOrEqual(15_000);
  expect(Math.max(...readme.split('\n').map((l) => l.length))).toBeLessThanOrEqual(80);
  for (const [, link] of readme.matchAll(/\]\(((?:docs|examples)\/[^)#]+)/g)) expect(() => read(link!)).not.toThrow();
});

it("the README's TypeScript snippet is examples/from-typescript.ts, word for word", () => {
  // The file type-checks with the project (`npm run typecheck`) and runs in CI (test/integration/examples.test.ts).
  const snippet = read('examples/from-typescript.ts');
  expect(read('README.md')).toContain('```ts\n' + snippet + '```');
});

it('docs/architecture.md names only files and folders that exist', () => {
  const page = read('docs/architecture.md');
  const block = /```\n([\s\S]*?)```/.exec(page)![1]!;
  const named: string[] = [];
  let folder = '';
  for (const line of block.split('\n')) {
    const top = /^(\S+\/)(?:\s|$)/.exec(line);
    if (top) folder = top[1]!;
    else {
      const entry = /^ {2}(\S+(?:\.\w+|\/))(?:\s|$)/.exec(line);
      if (entry) named.push(folder + entry[1]!);
    }
    if (top) named.push(folder);
  }
  // And every path the prose names.
  for (const [, path] of page.matchAll(/`((?:src|workflows|activities|test|tools|bench|docs|examples)\/[^`\s]*)`/g))
    named.push(path!.replace(/<x>\.ts$/, ''));
  expect(named.length).toBeGreaterThan(60);
  expect(named.filter((p) => !existsSync(join(root, p)))).toEqual([]);
});
