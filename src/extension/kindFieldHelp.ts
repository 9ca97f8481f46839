/**
 * The fields of a `source:`, `action:` or `check:` mapping for the kind its `type:` names, documented by
 * the kind itself (src/core/{sources,actions,checks}): a SQL action's `url:` is its connection URL, not
 * the HTTP template the family words first, and only the fields that kind takes are completed.
 */
import { actionFieldHelpFor } from '../core/actions/actionKinds';
import { checkFieldHelpFor } from '../core/checks/checkKinds';
import { sourceFieldHelpFor } from '../core/sources/sourceKinds';

const BY_FAMILY: Record<string, (type: string | undefined) => Readonly<Record<string, string>>> = {
  source: sourceFieldHelpFor,
  action: actionFieldHelpFor,
  check: checkFieldHelpFor,
};

/**
 * The help of the fields under `parent:` (a family key) for the kind `type` (all the family's kinds
 * while the type is missing or unknown); undefined when `parent` is not a family key.
 */
export function kindFieldsFor(
  parent: string,
  type: string | undefined,
): Readonly<Record<string, string>> | undefined {
  return BY_FAMILY[parent]?.(type);
}
