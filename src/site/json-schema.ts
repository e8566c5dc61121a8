// config/site.schema.json comes from the same zod schema that validates the
// file, so editors (yaml-language-server) autocomplete exactly what provlab
// accepts. The input side: keys with defaults are optional there.

import { z } from 'zod';
import { SiteSchema } from './schema.js';

export function siteJsonSchema(): Record<string, unknown> {
  // draft-07: the dialect editors' YAML plugins support best.
  return z.toJSONSchema(SiteSchema, { io: 'input', target: 'draft-07', unrepresentable: 'any' }) as Record<string, unknown>;
}

/** The exact text of config/site.schema.json (a test keeps the checked-in copy equal to it). */
export function siteJsonSchemaText(): string {
  return `${JSON.stringify(siteJsonSchema(), null, 2)}\n`;
}
