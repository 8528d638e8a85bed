/**
 * Headless Chromium for the page tests (Debian's /usr/bin/chromium driven by playwright-core): where
 * it is, the flags for root on a machine without network, and whether a suite must skip. Missing
 * Chromium skips with the reason printed, except under `CI=true`, where the test fails instead.
 */
import { existsSync } from "node:fs"
import { chromium, type Browser } from "playwright-core"
import { afterEach } from "vitest"

export const CHROMIUM = "/usr/bin/chromium"
export const chromiumInstalled = existsSync(CHROMIUM)
export const inCI = process.env.CI === "true"
export const CHROMIUM_MISSING = `${CHROMIUM} is not installed (apt-get install -y chromium)`
/** Why a suite skips (undefined: it runs; in CI it always runs and fails when Chromium is missing). */
export const chromiumSkipReason = chromiumInstalled || inCI ? undefined : CHROMIUM_MISSING

/** Flags for root on a machine without network. Playwright itself adds a new, empty temp --user-data-dir
 * (it refuses one in `args`) and deletes it when the browser closes. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** Fails the test in CI when Chromium is missing (outside CI the suite is skipped before this runs). */
export const requireChromium = (): void => {
  if (!chromiumInstalled) {
    throw new Error(
      `CI=true but ${CHROMIUM_MISSING}; .ci/run installs it before npm ci. This test is not skipped in CI.`
    )
  }
}

/**
 * Registers an afterEach that closes the browser a test launched, whatever happened (a test timeout
 * included: the launch may still be under way then); returns the launcher.
 */
export const useBrowser = (): ((timeoutMs: number) => Promise<Browser>) => {
  let launching: Promise<Browser> | undefined
  afterEach(async () => {
    const pending = launching
    launching = undefined
    await pending?.then(
      (b) => b.close(),
      () => undefined
    )
  })
  return (timeoutMs) => {
    launching = chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, timeout: timeoutMs })
    return launching
  }
}
