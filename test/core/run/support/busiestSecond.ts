/** The largest number of `times` (sorted, in milliseconds) in any half-open one-second window [t, t + 1000). */
export function busiestSecond(times: number[]): number {
  let most = 0;
  let end = 0;
  for (let start = 0; start < times.length; start += 1) {
    while (end < times.length && times[end]! < times[start]! + 1000) end += 1;
    most = Math.max(most, end - start);
  }
  return most;
}
