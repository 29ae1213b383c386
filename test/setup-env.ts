// The CLI words its hints after how it was started (npm start, npx: the npm_* variables). Tests call it
// directly, whatever started jest, so those variables must not leak into them.
for (const key of Object.keys(process.env)) if (key.startsWith('npm_')) delete process.env[key];
