// The core's folders form a one-way hierarchy: a folder imports only folders below it, and no module is in
// an import cycle. `npm run lint:layers` (part of `npm test`) fails the build otherwise.
// Why dependency-cruiser and not eslint's import/no-cycle: one small config states both the cycle rule and
// the layer order, it reports the whole path of a cycle, and it cruises the whole tree in a few seconds
// where import/no-cycle re-resolves every import of every file.

/**
 * Lowest first. A folder may import its own files and any folder listed before it, never one after it.
 * Why this order and not "model → format → kinds": each kind owns its schema, so the runbook format (the
 * union of the kinds' schemas) sits above the kinds; and the runner writes into the ledger, so the ledger
 * (storage) sits below the run that decides what to write.
 */
const LAYERS = [
  'support', // plumbing with no project knowledge: bundled files, the sql.js loader, a seeded random
  'model', // the shared data types: records, outcomes, runs, numeric ranges, field help
  'secrets', // resolving and redacting secrets
  'sources', // source kinds: reading records
  'actions', // action kinds: compiling and sending an action
  'checks', // verify-check kinds (a check may send a request or read a source)
  'format', // the runbook file: cells, schemas (the kinds' union), result blocks
  'job', // one runnable cell resolved against its environment, its fingerprint, whole-runbook checks
  'signoff', // sign-offs of a plan
  'ledger', // what happened to every record, run, dry run and sign-off
  'dryrun', // the dry run
  'attempts', // what the runner does to one record (the strategy interface, execution)
  'verify', // verification: reading the real end state, gaps
  'fleet', // many workers on one run: chunks and their leases, the fleet's members, shared control and rate
  'run', // the runner in parts, cell results
  'report', // the post-run report
];

const inLayer = (layer) => `^src/core/${layer}/`;

const upwardImports = LAYERS.map((layer, index) => ({
  name: `no-upward-import-from-${layer}`,
  comment: `src/core/${layer}/ sits below ${LAYERS.slice(index + 1).join(', ') || 'nothing'}: it may not import them.`,
  severity: 'error',
  from: { path: inLayer(layer) },
  to: { path: LAYERS.slice(index + 1).map(inLayer) },
})).filter((rule) => rule.to.path.length > 0);

module.exports = {
  forbidden: [
    {
      name: 'no-cycle',
      comment: 'An import cycle makes the layers meaningless and the modules impossible to test alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'core-files-live-in-a-layer',
      comment:
        'Every file of src/core sits in one of the layer folders, so its place in the order is explicit.',
      severity: 'error',
      from: { path: '^src/core/', pathNot: [`^src/core/(${LAYERS.join('|')})/`] },
      to: {},
    },
    {
      name: 'core-stays-pure',
      comment: 'The core never imports an adapter (the CLI, the extension) or the vscode API.',
      severity: 'error',
      from: { path: '^src/core/' },
      to: { path: ['^src/(cli|extension)/', '^vscode$'] },
    },
    ...upwardImports,
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist)/' },
    includeOnly: '^src/',
  },
};
