// Preloaded (`node --require`) into a `backfill run` by tests: fs.watch fails as it does where watching is
// not supported, so only the runner's poll can deliver a control command or a halt file.
require('node:fs').watch = () => {
  throw Object.assign(new Error('watch is not supported here (test)'), { code: 'ENOSYS' });
};
