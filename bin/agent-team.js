#!/usr/bin/env node
// The installed entry point. It runs whichever build is current: the compiled CLI (`npm run build`) unless a
// source file is newer than it (a checkout being edited), in which case the TypeScript sources run via tsx.
const { existsSync, readdirSync, statSync } = require('node:fs');
const { join } = require('node:path');

const root = join(__dirname, '..');
const compiled = join(root, 'dist', 'src', 'cli', 'main.js');
const source = join(root, 'src', 'cli', 'main.ts');

/** The newest modification time of the .ts files under these folders (0 when there are none). */
function newestSource(dirs) {
  let newest = 0;
  for (const dir of dirs) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir, { recursive: true })) {
      if (String(name).endsWith('.ts')) newest = Math.max(newest, statSync(join(dir, String(name))).mtimeMs);
    }
  }
  return newest;
}

function tsxAvailable() {
  try {
    require.resolve('tsx/cjs');
    return true;
  } catch {
    return false;
  }
}

const useCompiled =
  existsSync(compiled) &&
  (!existsSync(source) ||
    !tsxAvailable() ||
    statSync(compiled).mtimeMs >= newestSource(['src', 'workflows', 'activities'].map((d) => join(root, d))));
if (useCompiled) {
  require(compiled).main();
} else {
  require('tsx/cjs');
  require(source).main();
}
