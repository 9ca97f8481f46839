import type { Header } from '../format/schemas';
import { UserError } from '../model/types';

export interface ResolvedEnvironment {
  /** Empty when the runbook declares no environments. */
  name: string;
  production: boolean;
  vars: Record<string, string>;
}

/**
 * Picks the environment a run uses: the one asked for, else the header's default, else the first
 * non-production one. Production is never picked implicitly.
 */
export function resolveEnvironment(
  header: Header,
  requested?: string,
  overrides: Record<string, string> = {},
): ResolvedEnvironment {
  const names = Object.keys(header.environments);
  const name =
    requested ??
    header.defaultEnvironment ??
    names.find((n) => !header.environments[n]!.production) ??
    (names.length === 0 ? '' : undefined);
  if (name === undefined) {
    throw new UserError(
      `every environment of this runbook is marked production: choose one explicitly with --env (${names.join(', ')})`,
    );
  }
  if (name === '') return { name, production: false, vars: { ...overrides } };
  const environment = header.environments[name];
  if (!environment) {
    throw new UserError(
      `unknown environment "${name}": use one of: ${names.join(', ') || '(none declared)'}`,
    );
  }
  return { name, production: environment.production, vars: { ...environment.vars, ...overrides } };
}

/**
 * ` --env NAME` for a command a message suggests, when the environment in use is not the one the command
 * picks without `--env`; nothing when it is (or when the runbook declares no environments).
 */
export function envArgument(header: Header, environment: string): string {
  if (environment === '') return '';
  let implicit: string | undefined;
  try {
    implicit = resolveEnvironment(header).name;
  } catch {
    implicit = undefined; // every environment is production: none is picked without --env
  }
  return environment === implicit ? '' : ` --env ${environment}`;
}

/** Parses repeated `--var NAME=VALUE` options. */
export function parseVarOverrides(pairs: readonly string[]): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UserError(`--var "${pair}" is not NAME=VALUE`);
    vars[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return vars;
}
