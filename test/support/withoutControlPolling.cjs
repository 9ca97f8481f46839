// Preloaded (`node --require`) into a `backfill run` by tests: intervals shorter than a second — the
// runner's control poll — never fire, so only the runner's watch can deliver a control command or a halt
// file. The once-a-second status tick still runs.
const setIntervalAsUsual = globalThis.setInterval;
const NEVER_MS = 2 ** 31 - 1;
globalThis.setInterval = (callback, ms, ...args) =>
  setIntervalAsUsual(callback, ms < 1000 ? NEVER_MS : ms, ...args);
