#!/usr/bin/env node
'use strict'
// migrate-kit's drop-in for Prisma's native schema engine: point PRISMA_SCHEMA_ENGINE_BINARY here.
// Compiled to dist/ by `npm run build` (run by npm's `prepare` on `npm ci`).
let engine
try {
  engine = require('../dist/prisma/engine/main.js')
} catch (error) {
  // The Prisma CLI reads our stderr as JSON log lines: say what is missing in that form, or it shows nothing.
  const message = `migrate-kit's schema engine is not built (${error.message.split('\n')[0]}). Run \`npm run build\` in ${require('node:path').resolve(__dirname, '..')}.`
  process.stderr.write(`${JSON.stringify({ level: 'ERROR', target: 'schema_engine', fields: { is_panic: false, message } })}\n`)
  process.exit(1)
}
engine.main(process.argv.slice(2))
