/**
 * Which records of a source a cell selects (`subset:` of a job cell): the first N, listed keys, a
 * seeded sample, a key range, exclusions. The source kinds own it because the filter that applies it
 * (subsetFilter.ts) works on a source's records.
 */
import { z } from 'zod';
import { rangedNumber } from '../model/rangedNumber';

export const SubsetSchema = z.strictObject({
  first: rangedNumber('subset.first').optional(),
  keys: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
  keysFile: z.string().optional(),
  sample: z
    .strictObject({
      count: rangedNumber('subset.sample.count').optional(),
      percent: rangedNumber('subset.sample.percent').optional(),
      seed: rangedNumber('subset.sample.seed').default(1),
    })
    .optional(),
  range: z.strictObject({ from: z.string().optional(), to: z.string().optional() }).optional(),
  exclude: z.array(z.union([z.string(), z.number()]).transform(String)).optional(),
});

export type Subset = z.infer<typeof SubsetSchema>;
