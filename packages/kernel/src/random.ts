/**
 * A small seeded pseudo-random generator (mulberry32) for simulations, load
 * generators and tests. Never used inside the engine: randomness is an input
 * there, like time. Same seed, same sequence, on every machine.
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
