// undici's connection pool alone: its index also loads fetch, WebSocket, the cache and the mocks, 800 KB
// more in every bundle, parsed at every start of `backfill status` too. The package has no exports map,
// so its files can be imported; the type is that of the index's Agent.
declare module 'undici/lib/dispatcher/agent' {
  import { Agent } from 'undici';
  export default Agent;
}
