import { PassThrough } from 'node:stream'
import { etaSeconds, historyProgress, historyProgressLine } from '../packages/prisma-migrate-kit/src/cli/history-progress'
import type { CliIO } from '../packages/prisma-migrate-kit/src/cli/io'
import { FakeClock } from './helpers/fake-clock'

function recordingIO(interactive: boolean): CliIO & { outLines: string[]; errLines: string[] } {
  const outLines: string[] = []
  const errLines: string[] = []
  return { out: (line) => outLines.push(line), err: (line) => errLines.push(line), interactive, outLines, errLines }
}

test('the plain line: count, percent, elapsed and the ETA at the pace so far', () => {
  expect(historyProgressLine('rollbacks generate', 164, 820, 24)).toBe(
    'rollbacks generate: 164 / 820 migrations (20 %), 24 s elapsed, ETA 1 min 36 s',
  )
  expect(historyProgressLine('verify-rollbacks', 0, 820, 1)).toBe('verify-rollbacks: 0 / 820 migrations (0 %), 1.0 s elapsed, ETA ?')
  expect(etaSeconds(0, 10, 5)).toBeUndefined()
  expect(etaSeconds(5, 10, 5)).toBe(5)
})

test('off a terminal, a long walk: a line at each tenth of the way and after 30 s without one, the closing line at the end', async () => {
  const clock = new FakeClock()
  const io = recordingIO(false)
  const progress = historyProgress(io, { label: 'verify-rollbacks', total: 60, now: () => clock.now() })
  for (let done = 1; done <= 60; done++) {
    progress.starting(`m${done}`)
    // The 8th migration takes 31 s: a line comes out though no tenth was reached.
    await clock.advance(done === 8 ? 31_000 : 100)
    progress.done()
    progress.io.out(`ok       m${done}`)
  }
  progress.stop()
  expect(io.outLines).toHaveLength(60)
  expect(io.errLines.map((line) => /(\d+) \/ 60/.exec(line)?.[1])).toEqual(['6', '8', '12', '18', '24', '30', '36', '42', '48', '54', '60'])
  expect(io.errLines.at(-1)).toBe('verify-rollbacks: 60 / 60 migrations (100 %), 37 s elapsed, ETA 0.0 s')
})

test('off a terminal, a short walk stays quiet unless it takes longer than 10 s', async () => {
  const clock = new FakeClock()
  const quick = recordingIO(false)
  const fast = historyProgress(quick, { label: 'rollbacks generate', total: 5, now: () => clock.now() })
  for (let done = 1; done <= 5; done++) {
    await clock.advance(200)
    fast.done()
  }
  fast.stop()
  expect(quick.errLines).toEqual([])

  const slow = recordingIO(false)
  const progress = historyProgress(slow, { label: 'rollbacks generate', total: 5, now: () => clock.now() })
  for (let done = 1; done <= 5; done++) {
    await clock.advance(4_000)
    progress.done()
  }
  progress.stop()
  // Quiet for the first 10 s (two tenths passed unsaid), then at each tenth, then the closing line.
  expect(slow.errLines.map((line) => /(\d+) \/ 5/.exec(line)?.[1])).toEqual(['3', '4', '5'])
})

test('--json: nothing but the document (no bar, no progress line)', () => {
  const io = recordingIO(true)
  const progress = historyProgress(io, { label: 'rollbacks generate', total: 3, json: true })
  progress.starting('m1')
  progress.done()
  progress.stop()
  expect([...io.outLines, ...io.errLines]).toEqual([])
})

test('the closing line is not printed twice when the last tenth already said where it stopped', () => {
  const io = recordingIO(false)
  const progress = historyProgress(io, { label: 'rollbacks generate', total: 50 })
  for (let done = 1; done <= 5; done++) progress.done()
  progress.stop()
  expect(io.errLines).toEqual([expect.stringMatching(/^rollbacks generate: 5 \/ 50 migrations \(10 %\)/)])
})

test('on a terminal: a bar with the count and the migration under way; result lines above it when stdout is that terminal', () => {
  const terminal = Object.assign(new PassThrough(), {
    isTTY: true,
    columns: 160,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
  })
  let drawn = ''
  terminal.on('data', (chunk: Buffer) => (drawn += chunk.toString()))
  const io = recordingIO(true)
  const progress = historyProgress(io, { label: 'rollbacks generate', total: 3, barStream: terminal, stdoutIsTerminal: true })
  progress.starting('20200101000000_create_table_1')
  progress.done()
  progress.io.out('Wrote rollbacks/20200101000000_create_table_1/rollback.sql')
  progress.starting('20200101000100_add_column')
  progress.done()
  progress.done()
  progress.stop()
  expect(io.outLines).toEqual([])
  expect(drawn).toContain('Wrote rollbacks/20200101000000_create_table_1/rollback.sql')
  expect(drawn).toMatch(/rollbacks generate \[[^\]]*\] 3\/3 migrations/)
})
