import { MultiBar, Presets, type SingleBar } from 'cli-progress'
import type { RunEvent, RunProgress } from './runner'

/**
 * How a run shows itself. On a terminal: a progress bar (rows done / estimated total, rows/s, ETA, batch size) with
 * notices printed above it. Off a terminal (CI, a log file, a pipe): one plain line every few seconds. Everything
 * goes to stderr, so `--json` keeps stdout for its one document.
 */
export interface ProgressReporter {
  event(event: RunEvent): void
  /** Leaves the terminal clean (the bar's last state stays on screen). */
  stop(): void
}

const LINE_EVERY_MS = 3_000

export function formatCount(value: number): string {
  return Math.round(value).toLocaleString('en-US')
}

export function formatDuration(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '?'
  if (seconds < 10) return `${seconds.toFixed(1)} s`
  if (seconds < 60) return `${Math.round(seconds)} s`
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`
}

/** The plain progress line: `users_display_name: 12,000 / 20,000 rows (60 %), 3,400 rows/s, ETA 2 s, batch 1,200`. */
export function progressLine(progress: RunProgress): string {
  const total = progress.rowsTotal === null ? '?' : formatCount(progress.rowsTotal)
  const percent = progress.rowsTotal ? ` (${Math.min(100, Math.floor((progress.rowsDone / progress.rowsTotal) * 100))} %)` : ''
  const state = progress.state === 'running' ? '' : ` [${progress.state}]`
  return `${progress.name}: ${formatCount(progress.rowsDone)} / ${total} rows${percent}, ${formatCount(progress.rowsPerSecond)} rows/s, ETA ${formatDuration(progress.etaSeconds)}, batch ${formatCount(progress.batchSize)}${state}`
}

export function lineReporter(err: (line: string) => void, everyMs = LINE_EVERY_MS): ProgressReporter {
  let lastLineAt = 0
  let last: RunProgress | undefined
  return {
    event(event) {
      if (event.type === 'notice') {
        err(event.message)
        return
      }
      last = event.progress
      const now = Date.now()
      if (now - lastLineAt >= everyMs) {
        lastLineAt = now
        err(progressLine(event.progress))
      }
    },
    stop() {
      if (last) err(progressLine(last))
    },
  }
}

export function barReporter(stream: NodeJS.WritableStream = process.stderr): ProgressReporter {
  const bars = new MultiBar(
    {
      stream,
      format: '{name} [{bar}] {percentage}% | {value}/{totalText} rows | {rate} rows/s | ETA {etaText} | batch {batchSize}{state}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
      formatValue: (value, _options, type) => (type === 'value' ? formatCount(value) : String(value)),
    },
    Presets.shades_classic,
  )
  let bar: SingleBar | undefined
  return {
    event(event) {
      if (event.type === 'notice') {
        bars.log(`${event.message}\n`)
        return
      }
      const progress = event.progress
      const total = Math.max(1, progress.rowsTotal ?? progress.rowsDone)
      const payload = {
        name: progress.name,
        totalText: progress.rowsTotal === null ? '?' : formatCount(progress.rowsTotal),
        rate: formatCount(progress.rowsPerSecond),
        etaText: formatDuration(progress.etaSeconds),
        batchSize: formatCount(progress.batchSize),
        state: progress.state === 'running' ? '' : ` [${progress.state}]`,
      }
      if (!bar) bar = bars.create(total, progress.rowsDone, payload)
      bar.setTotal(total)
      bar.update(progress.rowsDone, payload)
    },
    stop() {
      // Notices queued by log() are drawn on the next redraw, which stop() alone never makes.
      bars.update()
      bars.stop()
    },
  }
}
