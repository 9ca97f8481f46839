// Preloaded into a measured process: writes its peak resident set size (KiB) when it exits.
const fs = require('node:fs');
process.on('exit', () =>
  fs.writeFileSync(process.env.BENCH_RSS_FILE, String(process.resourceUsage().maxRSS)),
);
