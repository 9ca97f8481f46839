// Preloaded into a measured process: appends the CPU time it used (user + system, microseconds) to
// BENCH_CPU_FILE when it exits, one line per process, so a fleet's processes add up.
const fs = require('node:fs');
process.on('exit', () => {
  const usage = process.resourceUsage();
  fs.appendFileSync(process.env.BENCH_CPU_FILE, `${usage.userCPUTime + usage.systemCPUTime}\n`);
});
