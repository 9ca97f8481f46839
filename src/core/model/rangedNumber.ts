/**
 * The zod side of {@link NUMERIC_RANGES}: a number schema that accepts only its setting's sane range and
 * says the range in its error, which the runbook reader locates at the field's line. This file cannot
 * depend on the vscode API.
 */
import { z } from 'zod';
import { rangeProblem, type NumericSetting } from './numericRanges';

/** A number within `setting`'s range (see numericRanges.ts); outside it, an issue that names the range. */
export function rangedNumber(setting: NumericSetting) {
  return z.number().superRefine((value, ctx) => {
    const problem = rangeProblem(setting, value);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });
}
