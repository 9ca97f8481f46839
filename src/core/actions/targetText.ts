/** Showing a template to a person. This file cannot depend on the vscode API. */

/** Shows configuration values in a target description; record and secret placeholders stay as written. */
export function withEnv(template: string, vars: Readonly<Record<string, string>>): string {
  return template.replace(/\$\{env:([^}]+)\}/g, (placeholder, name: string) => vars[name] ?? placeholder);
}
