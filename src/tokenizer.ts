/**
 * The core's entry for a runtime's tokenizer thread (usage/TokenizerThread.ts): the BPE recount of
 * estimated usage records, run on this thread's link to the owner. Kept apart from the other
 * entries so the thread loads only the tokenizer (and the encodings it needs, on first use).
 */
export { runTokenizerThread, type FromTokenizer, type ToTokenizer } from "./usage/TokenizerThread.ts"
