#!/usr/bin/env node
// Restores the lock entries for other platforms' optional native packages (@swc/core-darwin-arm64, …).
// A registry mirror that serves only some platforms makes `npm install` leave them out, and `npm ci` then refuses
// the lock ("Missing: … from lock file") on every machine. Run after `npm install`: node scripts/lockfile-platforms.mjs
import { readFileSync, writeFileSync } from 'node:fs'

const lockPath = new URL('../package-lock.json', import.meta.url)
const lock = JSON.parse(readFileSync(lockPath, 'utf8'))
const packages = lock.packages

/** os, cpu and libc from a platform package's name suffix, as those packages declare them. */
function platformOf(suffix) {
  const [os, cpu, abi] = suffix.split('-')
  const entry = { os: [os], cpu: [cpu] }
  if (abi === 'gnu') entry.libc = ['glibc']
  if (abi === 'musl' || abi === 'musleabihf') entry.libc = ['musl']
  return entry
}

const parents = Object.entries(packages).filter(([, meta]) => meta.optionalDependencies)
let added = 0
for (const [parentPath, parent] of parents) {
  for (const [name, version] of Object.entries(parent.optionalDependencies)) {
    const match = /^@[^/]+\/(?:core|resolver-binding)-(.+)$/.exec(name)
    if (!match || match[1].startsWith('wasm32')) continue
    const path = `node_modules/${name}`
    if (packages[path]) continue
    const { os, cpu, libc } = platformOf(match[1])
    packages[path] = {
      version,
      ...(cpu && { cpu }),
      ...(parent.dev && { dev: true }),
      ...(libc && { libc }),
      optional: true,
      os,
    }
    added += 1
    console.log(`added ${path}@${version} (${os}/${cpu}${libc ? `/${libc}` : ''}) for ${parentPath}`)
  }
}
lock.packages = Object.fromEntries(Object.entries(packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a < b ? -1 : 1)))
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`)
console.log(`${added} platform entries added`)
