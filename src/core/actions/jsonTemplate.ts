/**
 * JSON bodies whose string leaves are templates. This file cannot depend on the vscode API.
 *
 * Only string leaves are templates; object keys stay literal so a record value can never add a key.
 * A leaf that is exactly one placeholder keeps the value's type (a number stays a number, an object an
 * object); any other leaf is string interpolation. The caller serializes with JSON.stringify, so quotes
 * and newlines in a value stay inside one JSON string.
 *
 * Hand-written because it is a thin walk over template.ts's placeholders (see there for why no engine).
 */
import type { ActionIssue } from './compiledAction';
import type { CompiledTemplate, Rendered, TemplateReferences, TemplateValues } from './template';
import { compileTemplate, mergeReferences, resolvePlaceholder } from './template';

type JsonNode =
  | { kind: 'constant'; value: unknown }
  | { kind: 'template'; template: CompiledTemplate }
  | { kind: 'array'; items: JsonNode[] }
  | { kind: 'object'; entries: [string, JsonNode][] };

/** A JSON value compiled once; `render` returns the value with every leaf filled in for one record. */
export interface CompiledJsonTemplate {
  render(values: TemplateValues): Rendered<unknown>;
  references(): TemplateReferences;
}

/** Compiles every string leaf of a JSON value; issues name the leaf, e.g. `body.items[0].id`. */
export function compileJsonTemplate(
  value: unknown,
  fieldPath: string,
): { ok: true; template: CompiledJsonTemplate } | { ok: false; issues: ActionIssue[] } {
  const issues: ActionIssue[] = [];
  const root = compileNode(value, fieldPath, issues);
  if (issues.length > 0) return { ok: false, issues };
  const templates = collectTemplates(root);
  return {
    ok: true,
    template: {
      render: (values) => renderNode(root, values),
      references: () => mergeReferences(templates.map((template) => template.references())),
    },
  };
}

function compileNode(value: unknown, fieldPath: string, issues: ActionIssue[]): JsonNode {
  if (typeof value === 'string') {
    const compiled = compileTemplate(value, 'text');
    if (compiled.ok) return { kind: 'template', template: compiled.template };
    issues.push({ field: fieldPath, message: `${compiled.message} (column ${compiled.column})` });
    return { kind: 'constant', value };
  }
  if (Array.isArray(value)) {
    return {
      kind: 'array',
      items: value.map((item, index) => compileNode(item, `${fieldPath}[${index}]`, issues)),
    };
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).map(([key, item]): [string, JsonNode] => [
      key,
      compileNode(item, `${fieldPath}.${key}`, issues),
    ]);
    return { kind: 'object', entries };
  }
  return { kind: 'constant', value };
}

function collectTemplates(node: JsonNode): CompiledTemplate[] {
  switch (node.kind) {
    case 'template':
      return [node.template];
    case 'array':
      return node.items.flatMap(collectTemplates);
    case 'object':
      return node.entries.flatMap(([, item]) => collectTemplates(item));
    case 'constant':
      return [];
  }
}

function renderNode(node: JsonNode, values: TemplateValues): Rendered<unknown> {
  switch (node.kind) {
    case 'constant':
      return { ok: true, value: node.value };
    case 'template':
      return renderLeaf(node.template, values);
    case 'array':
      return renderAll(node.items, values);
    case 'object': {
      const rendered = renderAll(
        node.entries.map(([, item]) => item),
        values,
      );
      if (!rendered.ok) return rendered;
      const keys = node.entries.map(([key]) => key);
      return { ok: true, value: Object.fromEntries(keys.map((key, index) => [key, rendered.value[index]])) };
    }
  }
}

function renderAll(nodes: JsonNode[], values: TemplateValues): Rendered<unknown[]> {
  const output: unknown[] = [];
  for (const node of nodes) {
    const rendered = renderNode(node, values);
    if (!rendered.ok) return rendered;
    output.push(rendered.value);
  }
  return { ok: true, value: output };
}

function renderLeaf(template: CompiledTemplate, values: TemplateValues): Rendered<unknown> {
  const whole = template.wholePlaceholder;
  return whole ? resolvePlaceholder(whole, values) : template.render(values);
}
