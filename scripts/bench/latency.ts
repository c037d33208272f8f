/** The nearest-rank percentile (p in 0..1) of samples: a value that was really measured, never an interpolation. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) throw new Error('percentile of no samples')
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)))
  return sorted[rank - 1]
}

export interface LatencySummary {
  samples: number
  p50Ms: number
  p99Ms: number
  maxMs: number
}

export function summariseLatencies(latencies: readonly number[]): LatencySummary {
  if (latencies.length === 0) throw new Error('the writer made no update: no latency to report')
  return {
    samples: latencies.length,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.reduce((max, value) => Math.max(max, value), 0),
  }
}
