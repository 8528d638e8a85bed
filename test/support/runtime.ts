// A runtime description for tests that call `prepare` directly (no runtime entry involved).
import type { RuntimeDescription } from "../../src/startup/Prepare.ts"

export const TEST_RUNTIME: RuntimeDescription = {
  name: "node",
  version: "test",
  parallelism: 2,
  reusePortSpreads: true,
  platform: "linux"
}
