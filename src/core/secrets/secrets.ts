/**
 * Secrets for `${secret:NAME}` placeholders, and the redaction that keeps them out of everything the
 * engine writes. This file cannot depend on the vscode API: the CLI passes `process.env`, the extension
 * passes values it read from SecretStorage.
 *
 * "Secrets never touch disk": every value the resolver hands out is remembered, so a {@link Redactor}
 * built from it can scrub previews, reasons, logs and reports before they are shown or stored.
 */

/** The outcome of looking a secret up: its value, or a message telling the user how to provide it. */
export type SecretLookup = { ok: true; value: string } | { ok: false; reason: string };

/** Anything that knows which secret values were handed out so far (name → value). */
export interface SecretValueSource {
  secretValues(): ReadonlyMap<string, string>;
}

/**
 * Values shorter than this are not redacted: replacing every `abc` in a report would mangle it and still
 * reveal the value by its absence. They are reported through {@link SecretResolver.warnings} instead.
 */
export const MIN_REDACTABLE_SECRET_LENGTH = 4;

/** Resolves `${secret:NAME}` from an environment-like object and remembers every value it handed out. */
export class SecretResolver implements SecretValueSource {
  private readonly handedOut = new Map<string, string>();
  private readonly warningsByName = new Map<string, string>();
  private readonly missingNames = new Set<string>();

  constructor(private readonly source: Readonly<Record<string, string | undefined>>) {}

  /** Looks NAME up; a missing secret is a value, not an exception, so one record can be refused cleanly. */
  resolve(name: string): SecretLookup {
    const value = Object.hasOwn(this.source, name) ? this.source[name] : undefined;
    if (value === undefined) {
      this.missingNames.add(name);
      return { ok: false, reason: `secret ${name} is not set: export ${name}=… before running` };
    }
    this.remember(name, value);
    return { ok: true, value };
  }

  /**
   * Resolves every name up front (before a run starts) so redaction covers all secrets from the first
   * line of output. Returns one message per missing secret; empty when all are set.
   */
  resolveAll(names: Iterable<string>): string[] {
    const missing: string[] = [];
    for (const name of names) {
      const lookup = this.resolve(name);
      if (!lookup.ok) missing.push(lookup.reason);
    }
    return missing;
  }

  /** Names that were asked for but are not set, sorted; each was refused with a message saying how to set it. */
  missing(): string[] {
    return [...this.missingNames].sort();
  }

  /** Secrets that were resolved but are too short to be redacted; one message per secret. */
  warnings(): string[] {
    return [...this.warningsByName.values()];
  }

  /** Every secret handed out so far, by name. */
  secretValues(): ReadonlyMap<string, string> {
    return this.handedOut;
  }

  /** A redactor that also covers secrets resolved after it was created. */
  redactor(): Redactor {
    return new Redactor(this);
  }

  private remember(name: string, value: string): void {
    if (this.handedOut.get(name) === value) return;
    this.handedOut.set(name, value);
    const warning = shortSecretWarning(name, value);
    if (warning) this.warningsByName.set(name, warning);
    else this.warningsByName.delete(name);
  }
}

function shortSecretWarning(name: string, value: string): string | undefined {
  if (value.length === 0)
    return `secret ${name} is empty: check that ${name} is exported with its real value`;
  if (value.length < MIN_REDACTABLE_SECRET_LENGTH) {
    return `secret ${name} is shorter than ${MIN_REDACTABLE_SECRET_LENGTH} characters, so it cannot be redacted from outputs: use a longer value`;
  }
  return undefined;
}

/** Replaces every occurrence of every secret value (raw, URL-encoded, JSON-escaped) with `[redacted:NAME]`. */
export class Redactor {
  private pattern: RegExp | undefined;
  private nameByForm = new Map<string, string>();
  private builtFor: string | undefined;

  constructor(private readonly secrets: SecretValueSource) {}

  /**
   * Returns `text` with every known secret form replaced. A text cut short — marked by "…" or "..."
   * where it was cut, at its end, its start or inside it (a cut output quoted in a message) — may hold
   * only a piece of a secret at the cut, which no longer matches: a piece of at least
   * {@link MIN_REDACTABLE_SECRET_LENGTH} characters beside a mark is replaced too.
   */
  redact(text: string): string {
    const pattern = this.currentPattern();
    if (!pattern) return text;
    const whole = text.replace(pattern, (form) => `[redacted:${this.nameByForm.get(form) ?? 'secret'}]`);
    return this.redactCutPieces(whole);
  }

  /**
   * Redacts `text`, then cuts it to at most `max` characters ending in "…": redaction before the cut,
   * so a secret straddling the cut is recognised whole, and the cut text redacted again for any piece.
   */
  redactAndCut(text: string, max: number): string {
    const redacted = this.redact(text);
    return redacted.length <= max ? redacted : this.redact(`${redacted.slice(0, max - 1)}…`);
  }

  /**
   * Redacts the pieces of secrets beside every cut mark, wherever it is: a message often puts a cut
   * output after its own words (`exit code 1: …NARY_9f3k2…`), so a cut is not only at the text's ends.
   * A text before a mark may end with a secret's start; a text after one may start with a secret's end
   * (after the U+FFFD a byte cut through a character leaves).
   */
  private redactCutPieces(text: string): string {
    const parts = text.split(CUT_MARK_PATTERN);
    if (parts.length === 1) return text;
    // split() with a capturing group alternates texts (even indexes) and the marks between them.
    for (let i = 0; i < parts.length; i += 2) {
      let body = parts[i] as string;
      if (i + 1 < parts.length) {
        const end = body;
        const piece = this.longestPiece(end, (form, length) => end.endsWith(form.slice(0, length)));
        if (piece) body = `${end.slice(0, end.length - piece.length)}${piece.marker}`;
      }
      if (i > 0) {
        const damaged = /^\uFFFD*/.exec(body)?.[0] ?? '';
        const start = body.slice(damaged.length);
        const piece = this.longestPiece(start, (form, length) => start.startsWith(form.slice(-length)));
        if (piece) body = `${damaged}${piece.marker}${start.slice(piece.length)}`;
      }
      parts[i] = body;
    }
    return parts.join('');
  }

  /** The longest piece (at least the minimum length, short of a whole form) of a secret that `fits`. */
  private longestPiece(
    body: string,
    fits: (form: string, length: number) => boolean,
  ): { length: number; marker: string } | undefined {
    let best: { length: number; marker: string } | undefined;
    for (const [form, name] of this.nameByForm) {
      for (
        let length = Math.min(form.length - 1, body.length);
        length >= MIN_REDACTABLE_SECRET_LENGTH;
        length -= 1
      ) {
        if ((best?.length ?? 0) >= length) break;
        if (fits(form, length)) {
          best = { length, marker: `[redacted:${name}]` };
          break;
        }
      }
    }
    return best;
  }

  /** Redacts every string (and object key) inside a JSON-serializable value; the input is not modified. */
  redactValue<T>(value: T): T {
    return redactDeep(value, this) as T;
  }

  private currentPattern(): RegExp | undefined {
    const values = this.secrets.secretValues();
    // Secrets can be resolved after the redactor was created: rebuild whenever the set has changed.
    const fingerprint = JSON.stringify([...values]);
    if (fingerprint !== this.builtFor) {
      this.builtFor = fingerprint;
      this.rebuild(values);
    }
    return this.pattern;
  }

  private rebuild(values: ReadonlyMap<string, string>): void {
    this.nameByForm = new Map();
    for (const [name, value] of values) {
      if (value.length < MIN_REDACTABLE_SECRET_LENGTH) continue;
      for (const form of encodedForms(value)) {
        if (!this.nameByForm.has(form)) this.nameByForm.set(form, name);
      }
    }
    // Longest first, so a value that contains another secret is replaced whole, in one pass.
    const forms = [...this.nameByForm.keys()].sort((a, b) => b.length - a.length);
    this.pattern = forms.length > 0 ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
  }
}

/** How a text cut short says so: the ellipsis our own cuts append, and three dots. */
const CUT_MARK_PATTERN = /(…|\.\.\.)/;

/** The spellings a secret takes once it is put in a URL, a form body or a JSON string. */
function encodedForms(value: string): Set<string> {
  const forms = new Set([value, JSON.stringify(value).slice(1, -1)]);
  try {
    forms.add(encodeURIComponent(value));
    forms.add(new URLSearchParams({ v: value }).toString().slice(2));
  } catch {
    // A lone surrogate cannot be URL-encoded, so that form cannot occur either.
  }
  return forms;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Redacts every string and object key inside a JSON-serializable value, returning a new value. */
export function redactDeep(value: unknown, redactor: Pick<Redactor, 'redact'>): unknown {
  if (typeof value === 'string') return redactor.redact(value);
  if (Array.isArray(value)) return value.map((item) => redactDeep(item, redactor));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [redactor.redact(key), redactDeep(item, redactor)]),
    );
  }
  return value;
}
