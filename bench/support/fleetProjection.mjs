// The projection of bench/workers.mjs: what N workers on separate hosts would ask of the ledger's
// PostgreSQL, computed from what the benchmark measured with one worker, never from assumed figures.
//
// Each of N workers runs at r, the measured records/s of one `backfill run` on the PostgreSQL ledger:
//   fleet rate       F = N × r                  records/s, and requests/s at the target
//   database CPU     F × c                      cores; c = server CPU seconds per record (measured, 1 worker)
//   round trips/s    F × t                      t = statements per record (measured, 1 worker)
//   commits/s        F × k                      k = explicit transactions per record (each a WAL flush
//                                               once fsync is on; the bench's server runs with fsync off)
//   chunk claims/s   F / chunkSize              as many mark-dones again
//   connections      N × p                      p = the most connections seen at once / processes, in
//                                               the largest fleet measured
// c and t include what is paid per second rather than per record (4 polls of the controls and a
// heartbeat a second per worker): at the same rate per worker, that is the same per record.
// Limits: the database host's cores (taken as this machine's: the only host measured), max_connections
// less the superuser reserve, the runbook's rate (a fleet never sends faster than it; the even split of
// the rate costs the database nothing), and the target, which must answer F requests/s — its capacity
// is not measured here. The need with the largest share of its limit binds first.

const whole = (n) => Math.round(n).toLocaleString('en-US');

/**
 * Rows for `sizes` workers. `measured`: { perWorker, serverCpuSecondsPerRecord, roundTripsPerRecord,
 * commitsPerRecord, connectionsPerProcess }; `limits`: { hostCores, availableConnections, rate };
 * `chunkSize` as the runs measured had it.
 */
export function projectFleet(sizes, measured, limits, chunkSize) {
  return sizes.map((workers) => {
    const fleetRate = workers * measured.perWorker;
    const cores = fleetRate * measured.serverCpuSecondsPerRecord;
    const roundTrips = fleetRate * measured.roundTripsPerRecord;
    const commits = fleetRate * measured.commitsPerRecord;
    const claims = fleetRate / chunkSize;
    const connections = Math.ceil(workers * measured.connectionsPerProcess);
    const needs = [
      {
        what: 'database CPU',
        share: cores / limits.hostCores,
        says: `${cores.toFixed(2)} of a ${limits.hostCores}-core host like this one`,
      },
      {
        what: 'connections',
        share: connections / limits.availableConnections,
        says: `${connections} of ${limits.availableConnections}`,
      },
      {
        what: 'the global rate',
        share: fleetRate / limits.rate,
        says: `the runbook's ${whole(limits.rate)}/s`,
      },
    ];
    const first = needs.reduce((a, b) => (b.share > a.share ? b : a));
    const binds =
      first.share >= 1
        ? `${first.what} (${first.says})`
        : `none of the database's limits (the nearest: ${first.what}, ${Math.round(first.share * 100)} %): the target, at ${whole(fleetRate)} requests/s`;
    return {
      name: `projection: ${workers} workers on separate hosts, each at the measured 1-worker rate`,
      figure: `${whole(fleetRate)} records/s; database CPU ${cores.toFixed(2)} cores; ${whole(roundTrips)} round trips/s, ${whole(commits)} commits/s; ${claims.toFixed(1)} chunk claims/s (and as many mark-dones); ${connections} connections of ${limits.availableConnections}; binds first: ${binds}`,
      target: 'from the measured per-record costs (no target)',
      met: '—',
      workers,
      fleetRecordsPerSecond: Math.round(fleetRate),
      databaseCores: Math.round(cores * 100) / 100,
      roundTripsPerSecond: Math.round(roundTrips),
      commitsPerSecond: Math.round(commits),
      chunkClaimsPerSecond: Math.round(claims * 10) / 10,
      connections,
      bindsFirst: first.share >= 1 ? first.what : 'the target',
    };
  });
}
