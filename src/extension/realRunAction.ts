/**
 * The names of the actions that run a cell for real, in one place, so every message names the action the
 * user actually has: Execute… on a non-production environment, Run in Production… only on a production
 * one, and ▶ for a verification (it only reads).
 */

export const EXECUTE = 'Execute…';
export const RUN_IN_PRODUCTION = 'Run in Production…';

/** The action that runs an execute cell for real in an environment that is (or is not) production. */
export function realRunAction(production: boolean): string {
  return production ? RUN_IN_PRODUCTION : EXECUTE;
}

/** What starts a run of `mode` again (to resume it): the action of its environment, or ▶ for a check. */
export function resumeAction(mode: string | undefined): string {
  if (mode === 'verify') return '▶ on the verify cell';
  if (mode === 'production') return RUN_IN_PRODUCTION;
  if (mode === 'execute') return EXECUTE;
  return `${EXECUTE} (or ${RUN_IN_PRODUCTION} on a production environment)`;
}
