/**
 * Text templates such as `{root.firstName} {work.title|label}`: literal text with placeholders
 * naming a HiBob field id, optionally with `|label` to use the display value. `{{` and `}}`
 * write literal braces. Parsed once; shared by config validation and evaluation.
 */

export type TemplatePart = { text: string } | { field: string; label: boolean };

const FIELD_ID = /^[^\s{}|]+$/;
const MODIFIERS = new Set(['label']);

export class TemplateSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

export function parseTemplate(template: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  let text = '';
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i += 2;
    } else if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i += 2;
    } else if (ch === '}') {
      throw new TemplateSyntaxError(`unexpected "}" at position ${i + 1}; write "}}" for a literal brace`);
    } else if (ch === '{') {
      const close = template.indexOf('}', i + 1);
      if (close < 0)
        throw new TemplateSyntaxError(`"{" at position ${i + 1} is never closed; write "{{" for a literal brace`);
      const [field = '', ...modifiers] = template
        .slice(i + 1, close)
        .split('|')
        .map((s) => s.trim());
      if (!FIELD_ID.test(field)) {
        throw new TemplateSyntaxError(
          `placeholder at position ${i + 1} must name a HiBob field id, e.g. {root.firstName}`,
        );
      }
      const unknown = modifiers.find((m) => !MODIFIERS.has(m));
      if (unknown !== undefined) {
        throw new TemplateSyntaxError(`unknown modifier "|${unknown}" in {${field}}; the only modifier is |label`);
      }
      if (text) parts.push({ text });
      text = '';
      parts.push({ field, label: modifiers.includes('label') });
      i = close + 1;
    } else {
      text += ch;
      i += 1;
    }
  }
  if (text) parts.push({ text });
  return parts;
}

/** Field ids a template reads. */
export function templateFields(template: string): string[] {
  return parseTemplate(template).flatMap((p) => ('field' in p ? [p.field] : []));
}
