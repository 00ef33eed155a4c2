// Small statistics helpers for the benchmarks: a seeded PRNG, percentiles and medians.

/** mulberry32: a tiny, fast, seeded 32-bit PRNG. `next()` is uniform in [0, 1). */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  }

  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }
}

/** Nearest-rank percentile of an ascending array (fraction in (0, 1]). */
export function percentile(sorted: ArrayLike<number>, fraction: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1));
  return sorted[index] ?? 0;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return 0;
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

export interface LatencySummary {
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  maxNs: number;
}

/** Sorts the samples in place and summarises them. */
export function summarizeLatency(samplesNs: Float64Array): LatencySummary {
  samplesNs.sort();
  return {
    p50Ns: Math.round(percentile(samplesNs, 0.5)),
    p99Ns: Math.round(percentile(samplesNs, 0.99)),
    p999Ns: Math.round(percentile(samplesNs, 0.999)),
    maxNs: Math.round(samplesNs[samplesNs.length - 1] ?? 0),
  };
}

/** The overhead of one `process.hrtime.bigint()` pair, in ns (median of many). */
export function timerOverheadNs(samples = 100_000): number {
  const out = new Float64Array(samples);
  for (let i = 0; i < samples; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    out[i] = Number(t1 - t0);
  }
  out.sort();
  return percentile(out, 0.5);
}
