/**
 * The master key of a run whose config sets none: generated once at startup, printed once in the
 * banner, and given to every worker, so all of them accept the same key.
 */
import { generateKey } from "../auth/KeyMaterial.ts"

/** A fresh master key (`sk-lg-` and 32 random base62 characters, like a virtual key). */
export const generateMasterKey = (): string => generateKey().key
