/**
 * The core's entry for a runtime's main thread: the one launch path (prepare argv and the
 * environment, run a subcommand or become the owner). Kept apart from index.ts so worker threads
 * never load the owner's modules (startup, cli, config loading, the owner's stores).
 */
export { launch } from "./cluster/Launch.ts"
