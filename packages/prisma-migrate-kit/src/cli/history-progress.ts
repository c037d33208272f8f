import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import { formatDuration } from '../backfill/progress'
import type { CliIO } from './io'

/**
 * Where a command that walks the migration history is (`rollbacks generate`, `verify-rollbacks`): 820 migrations take
 * minutes, and a silent terminal for that long reads as a hang. On a terminal: a progress bar on stderr (migrations
 * done, elapsed, ETA, the one under way), the command's own lines printed above it. Off a terminal (CI, a pipe): the
 * command's lines as they are, and for a long walk a plain progress line on stderr at every tenth of the way or every
 * 30 s. With
 * --json: nothing but the JSON document, as before.
 */
export interface HistoryProgress {
  /** The migration now under way (shown on the bar). */
  starting(migration: string): void
  /** One more migration done. */
  done(): void
  /** Where the command's own lines go meanwhile: above the bar when they share its terminal, else as they are. */
  io: CliIO
  /** The bar's last state stays on screen; the plain reporter prints its closing line. */
  stop(): void
}

export interface HistoryProgressOptions {
  /** What is counted, first in every line: `rollbacks generate`. */
  label: string
  total: number
  /** --json: no progress at all. */
  json?: boolean
  /** Milliseconds since some fixed point; a fake clock in tests. */
  now?: () => number
  /** Where the bar is drawn (stderr); whether stdout is that same terminal (process.stdout.isTTY). For tests. */
  barStream?: NodeJS.WritableStream
  stdoutIsTerminal?: boolean
}

/** A plain line at least this often while a step takes long. */
const LINE_EVERY_MS = 30_000

/**
 * Off a terminal, a short walk says nothing but its own lines (a CI log of a 5-migration project stays as it was):
 * progress lines come for a history of at least this many migrations, or once a walk has taken longer than
 * QUIET_FOR_MS.
 */
const PROGRESS_LINES_FROM = 50
const QUIET_FOR_MS = 10_000

/** `rollbacks generate: 164 / 820 migrations (20 %), 24 s elapsed, ETA 1 min 36 s`. */
export function historyProgressLine(label: string, done: number, total: number, elapsedSeconds: number): string {
  const percent = total > 0 ? Math.floor((done / total) * 100) : 100
  return `${label}: ${done} / ${total} migrations (${percent} %), ${formatDuration(elapsedSeconds)} elapsed, ETA ${formatDuration(etaSeconds(done, total, elapsedSeconds))}`
}

/** The time left at the pace so far; undefined before the first migration is done. */
export function etaSeconds(done: number, total: number, elapsedSeconds: number): number | undefined {
  if (done === 0) return undefined
  return (elapsedSeconds / done) * (total - done)
}

export function historyProgress(io: CliIO, options: HistoryProgressOptions): HistoryProgress {
  // --json is what it always was: the one document on stdout, and nothing on stderr unless something went wrong.
  if (options.json) return { starting: () => undefined, done: () => undefined, io, stop: () => undefined }
  if (io.interactive && options.total > 0) return barProgress(io, options)
  return lineProgress(io, options)
}

/**
 * Off a terminal: the command's lines, and (for a long walk, see PROGRESS_LINES_FROM) a progress line at each tenth of
 * the way or after 30 s without one.
 */
function lineProgress(io: CliIO, options: HistoryProgressOptions): HistoryProgress {
  const now = options.now ?? (() => performance.now())
  const startedAt = now()
  let done = 0
  let lastLineAt = startedAt
  let lastTenth = 0
  let printed = -1
  const long = () => options.total >= PROGRESS_LINES_FROM || now() - startedAt >= QUIET_FOR_MS
  const line = () => {
    printed = done
    io.err(historyProgressLine(options.label, done, options.total, (now() - startedAt) / 1000))
  }
  return {
    starting: () => undefined,
    done() {
      done++
      const tenth = options.total > 0 ? Math.floor((done * 10) / options.total) : 10
      if (tenth > lastTenth || now() - lastLineAt >= LINE_EVERY_MS) {
        lastTenth = tenth
        lastLineAt = now()
        if (done < options.total && long()) line()
      }
    },
    io,
    stop() {
      if (options.total > 0 && printed !== done && long()) line()
    },
  }
}

function barProgress(io: CliIO, options: HistoryProgressOptions): HistoryProgress {
  const now = options.now ?? (() => performance.now())
  const startedAt = now()
  const bars = new MultiBar(
    {
      stream: options.barStream ?? process.stderr,
      format: '{label} [{bar}] {value}/{total} migrations | {elapsedText} | ETA {etaText} | {migration}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
    },
    Presets.shades_classic,
  )
  let done = 0
  let migration = ''
  const payload = () => {
    const elapsed = (now() - startedAt) / 1000
    return {
      label: options.label,
      migration,
      elapsedText: formatDuration(elapsed),
      etaText: formatDuration(etaSeconds(done, options.total, elapsed)),
    }
  }
  const bar: SingleBar = bars.create(options.total, 0, payload())
  // stdout on the same terminal: lines go above the bar; stdout elsewhere (a file) gets them as they are.
  // MultiBar.log only queues the line for the next redraw, and stop() drops the queue: redraw at once.
  const above = (text: string) => {
    bars.log(`${text}\n`)
    bars.update()
  }
  const outOnTerminal = options.stdoutIsTerminal ?? Boolean(process.stdout.isTTY)
  return {
    starting(name) {
      migration = name
      bar.update(done, payload())
    },
    done() {
      done++
      bar.update(done, payload())
    },
    io: { out: outOnTerminal ? above : io.out, err: above, interactive: true },
    stop() {
      migration = ''
      bar.update(done, payload())
      bars.stop()
    },
  }
}
