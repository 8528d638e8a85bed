/**
 * Reading a config value that has not been validated yet, tolerantly: cross-reference checks run on
 * the raw value so their problems are reported together with the schema's, not after them.
 */

/** The array under `key`, or none. */
export const entries = (value: unknown, key: string): ReadonlyArray<unknown> => {
  if (value === null || typeof value !== "object") return []
  const list: unknown = (value as Record<string, unknown>)[key]
  return Array.isArray(list) ? list : []
}

/** The field `key` of an object, or undefined. */
export const field = (value: unknown, key: string): unknown =>
  value !== null && typeof value === "object" ? (value as Record<string, unknown>)[key] : undefined
