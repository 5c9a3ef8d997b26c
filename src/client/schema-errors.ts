import type { ErrorObject } from "ajv/dist/2020.js";

/**
 * What JSON Schema found wrong, as sentences people read ("period is not in the form it takes: \"2026-13\" (a month,
 * YYYY-MM)") rather than the validator's wording ("must match pattern ..." or "must match a schema in anyOf").
 * `subject` names the whole document ("the report"). A value's schema description, when the validator was compiled
 * with `verbose`, says what was expected.
 */
export function schemaProblems(errors: readonly ErrorObject[], subject: string): string[] {
  // An anyOf or oneOf reports each branch's failure before its own: the choice itself says it best.
  const choices = new Set(
    errors.filter((e) => e.keyword === "anyOf" || e.keyword === "oneOf").map((e) => e.schemaPath),
  );
  const sentences = errors
    .filter((e) => ![...choices].some((path) => e.schemaPath.startsWith(`${path}/`)))
    .map((e) => sentence(e, subject));
  return [...new Set(sentences)];
}

/** `/loans/0/principal` as `loans[0].principal`. */
function where(instancePath: string, subject: string): string {
  if (instancePath === "") return subject;
  return instancePath
    .slice(1)
    .split("/")
    .map((part) => part.replaceAll("~1", "/").replaceAll("~0", "~"))
    .map((part, i) => (/^\d+$/.test(part) ? `[${part}]` : i === 0 ? part : `.${part}`))
    .join("");
}

const TYPE_WORDS: Record<string, string> = {
  string: "text",
  number: "a number",
  integer: "a whole number",
  boolean: "true or false",
  object: "an object",
  array: "a list",
  null: "null",
};

function sentence(e: ErrorObject, subject: string): string {
  const at = where(e.instancePath, subject);
  const given = e.data === undefined ? "" : `, not ${shown(e.data)}`;
  const description = (e.parentSchema as { description?: unknown } | undefined)?.description;
  const expected = typeof description === "string" ? ` (${lower(description.replace(/\.$/, ""))})` : "";
  const params = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case "required":
      return `${at === subject ? "" : `${at}: `}${String(params.missingProperty)} is missing`;
    case "additionalProperties":
      return `${at} has a key it does not know: "${String(params.additionalProperty)}"`;
    case "type": {
      const types = String(params.type).split(",");
      return `${at} must be ${types.map((t) => TYPE_WORDS[t] ?? t).join(" or ")}${given}`;
    }
    case "enum":
      return `${at} must be one of ${(params.allowedValues as unknown[]).map(bare).join(", ")}${given}`;
    case "const":
      return `${at} must be ${shown(params.allowedValue)}${given}`;
    case "pattern":
    case "format":
    case "anyOf":
    case "oneOf":
      return `${at} is not in a form it takes${given}${expected}`;
    case "minimum":
    case "maximum":
    case "exclusiveMinimum":
    case "exclusiveMaximum": {
      const words = {
        minimum: "at least",
        maximum: "at most",
        exclusiveMinimum: "more than",
        exclusiveMaximum: "less than",
      };
      return `${at} must be ${words[e.keyword]} ${String(params.limit)}${given}`;
    }
    case "minLength":
    case "maxLength":
      return `${at} must have ${e.keyword === "minLength" ? "at least" : "at most"} ${String(params.limit)} characters${given}`;
    case "minItems":
    case "maxItems":
      return `${at} must have ${e.keyword === "minItems" ? "at least" : "at most"} ${String(params.limit)} entries`;
    default:
      return `${at} is not valid${given}${expected}`;
  }
}

function shown(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}…` : text;
}

function lower(text: string): string {
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}

/** A choice as it is typed: words bare, anything else as JSON. */
function bare(value: unknown): string {
  return typeof value === "string" ? value : shown(value);
}
