/**
 * The core's entry for a runtime's worker thread: the worker's serving code (the app, routing,
 * providers), run on this thread's link to the owner. Kept apart from index.ts so the owner thread
 * loads it only when it serves itself (one worker: cluster/Owner.ts imports it lazily).
 */
export { runWorkerThread } from "./cluster/Worker.ts"
