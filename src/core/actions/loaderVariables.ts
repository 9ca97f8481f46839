/**
 * Environment variables that change how a program is found, loaded or started — which library the
 * dynamic linker injects (LD_PRELOAD), which code Node, Python, Ruby, Perl or Java run first
 * (NODE_OPTIONS, PYTHONSTARTUP, …), where programs are looked up (PATH) — and that therefore turn a
 * value into code. Record values are data, never code, so a command action or check may set these only
 * from the runbook, its environment's vars or secrets, never from `${record:…}`; nor may a record value
 * name a variable (names are not templates). This file cannot depend on the vscode API.
 */

const EXACT = new Set([
  'PATH', 'NODE_OPTIONS', 'NODE_PATH', 'NODE_EXTRA_CA_CERTS', 'PYTHONPATH', 'PYTHONSTARTUP', 'PYTHONHOME',
  'PYTHONINSPECT', 'PERL5LIB', 'PERL5OPT', 'PERLLIB', 'RUBYOPT', 'RUBYLIB', 'JAVA_TOOL_OPTIONS',
  '_JAVA_OPTIONS', 'JDK_JAVA_OPTIONS', 'CLASSPATH', 'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'IFS',
  'GCONV_PATH', 'LOCPATH', 'HOSTALIASES', 'OPENSSL_CONF', 'GIT_EXEC_PATH', 'GIT_SSH_COMMAND',
  // Python imports the module a warning filter or breakpoint hook names; git and ssh run these programs.
  'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'PERL5DB', 'GIT_SSH', 'GIT_ASKPASS', 'SSH_ASKPASS',
  'GIT_PROXY_COMMAND', 'GIT_EXTERNAL_DIFF', 'GIT_PAGER', 'GIT_EDITOR', 'GIT_TEMPLATE_DIR',
]); // prettier-ignore

/**
 * Families: the dynamic linkers' own (LD_PRELOAD, LD_LIBRARY_PATH, DYLD_INSERT_LIBRARIES, …), and git's
 * configuration from the environment (GIT_CONFIG_COUNT/KEY_n/VALUE_n, GIT_CONFIG_PARAMETERS, …), which
 * can set core.sshCommand, core.hooksPath or an alias that runs a program.
 */
const PREFIXES = ['LD_', 'DYLD_', 'GIT_CONFIG'];

/** True for a variable that changes how a program is loaded (case-insensitive, as on Windows). */
export function isLoaderVariable(name: string): boolean {
  const upper = name.toUpperCase();
  return EXACT.has(upper) || PREFIXES.some((prefix) => upper.startsWith(prefix));
}

/** The located refusal for a loader variable whose value takes record fields; undefined when allowed. */
export function loaderVariableProblem(name: string, recordFields: readonly string[]): string | undefined {
  if (recordFields.length === 0 || !isLoaderVariable(name)) return undefined;
  return (
    `${name} changes how the program is loaded, so it cannot take a record value ` +
    `(\${record:${recordFields[0]}}): set it from the runbook, \${env:…} or \${secret:…}, or pass the value as an argument`
  );
}
