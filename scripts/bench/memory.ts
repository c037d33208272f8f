import { readFileSync } from 'node:fs'

/**
 * The peak resident memory of another process, from Linux's /proc/<pid>/status: VmHWM is the kernel's own
 * high-water mark of its RSS, so a sample taken shortly before the process exits covers its whole life.
 */
export class PeakMemory {
  private peakKb = 0
  private readonly timer: NodeJS.Timeout

  constructor(
    private readonly pid: number,
    everyMs = 50,
  ) {
    this.sample()
    this.timer = setInterval(() => this.sample(), everyMs)
  }

  /** Reads it once more (call it when the process is about to exit, or has just been seen exiting). */
  sample(): void {
    let status: string
    try {
      status = readFileSync(`/proc/${this.pid}/status`, 'utf8')
    } catch {
      return // gone already, or not Linux
    }
    for (const field of ['VmHWM', 'VmRSS']) {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)
      if (match) this.peakKb = Math.max(this.peakKb, Number(match[1]))
    }
  }

  /** Stops sampling; the peak in MiB, or null when nothing could be read (not Linux). */
  stop(): number | null {
    clearInterval(this.timer)
    return this.peakKb > 0 ? this.peakKb / 1024 : null
  }
}
