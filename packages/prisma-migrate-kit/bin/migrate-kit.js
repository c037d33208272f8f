#!/usr/bin/env node
'use strict'
// The CLI is compiled to dist/ by `npm run build` (run by npm's `prepare` on `npm ci`).
require('../dist/cli/main.js').main(process.argv.slice(2))
