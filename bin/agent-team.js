#!/usr/bin/env node
// The installed entry point: the compiled CLI when built (`npm run build`), else the TypeScript source via tsx.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const compiled = join(__dirname, '..', 'dist', 'src', 'cli', 'main.js');
if (existsSync(compiled)) {
  require(compiled).main();
} else {
  require('tsx/cjs');
  require(join(__dirname, '..', 'src', 'cli', 'main.ts')).main();
}
