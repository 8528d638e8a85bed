// GET /docs in a real headless Chromium (Debian's /usr/bin/chromium driven by playwright-core): the Scalar
// reference renders the spec's operations, and the page makes no request outside the gateway (no remote
// fonts, telemetry, hosted agent/MCP features or proxy) and loads nothing that fails.
import { readFileSync } from "node:fs"
import { join } from "node:path"
import { describe, expect, it } from "vitest"
import { parse } from "yaml"
import { chromiumSkipReason as skipReason, requireChromium, useBrowser } from "../support/chromium.ts"
import { ROOT } from "./gateway.ts"
import { itLeaksNoSecrets, runtime, useContract } from "./harness.ts"

// The default reporter prints neither skipped titles nor skip notes: say it on stderr as well.
if (skipReason !== undefined) console.warn(`[${runtime}] docs.contract: headless Chromium test SKIPPED: ${skipReason}`)

const TEST_TIMEOUT_MS = 30_000
/** Browser steps share one deadline this far ahead of the test timeout, so a stuck step fails with the
 * recorded requests and errors rather than with a bare test timeout. */
const DEADLINE_MARGIN_MS = 1_500

interface Operation {
  readonly tag: string
  readonly summary: string
}

/** Every operation of the spec the gateway serves at /openapi.json, in document order. */
const specOperations = (): Array<Operation> => {
  const spec = parse(readFileSync(join(ROOT, "spec", "openapi.yaml"), "utf8")) as {
    paths: Record<string, Record<string, { summary?: string; tags?: Array<string> }>>
  }
  const methods = new Set(["get", "put", "post", "delete", "options", "head", "patch", "trace"])
  return Object.values(spec.paths).flatMap((item) =>
    Object.entries(item)
      .filter(([method, op]) => methods.has(method) && typeof op.summary === "string")
      .map(([, op]) => ({ tag: op.tags?.[0] ?? "", summary: op.summary as string }))
  )
}

/** Operations to open in the content pane (which renders its sections lazily): the first operation of the
 * first, the middle and the last tag, so the top, the middle and the end of the page are all exercised. */
const toOpen = (ops: ReadonlyArray<Operation>): Array<Operation> => {
  const tags = new Set<string>()
  const firsts = ops.filter((op) => !tags.has(op.tag) && tags.add(op.tag) !== undefined)
  return [...new Set([firsts[0], firsts[Math.floor(firsts.length / 2)], firsts.at(-1)])].filter(
    (op) => op !== undefined
  )
}

/** The browser's own favicon fetch (Playwright reports no request for it): the page declares no icon, the
 * gateway answers 404 and Chromium logs it. Exactly that message is not a failed load of the page. */
const isFaviconMiss = (text: string, url: string, origin: string): boolean =>
  url === `${origin}/favicon.ico` && text.startsWith("Failed to load resource")

const CONSOLE_PROBE = "llmgate-docs-console-probe"

describe.skipIf(skipReason !== undefined)(
  `[${runtime}] API reference page in headless Chromium${skipReason === undefined ? "" : ` (skipped: ${skipReason})`}`,
  () => {
    const ctx = useContract()
    const launch = useBrowser()

    it("renders the operations of the spec and makes no request outside the gateway", {
      timeout: TEST_TIMEOUT_MS
    }, async () => {
      requireChromium()
      const deadline = performance.now() + TEST_TIMEOUT_MS - DEADLINE_MARGIN_MS
      const left = (): number => Math.max(1, Math.round(deadline - performance.now()))

      const ops = specOperations()
      expect(ops.length, "operations in spec/openapi.yaml").toBeGreaterThanOrEqual(5)
      expect(ops.map((o) => o.summary)).toContain("Create a chat completion")

      const origin = new URL(ctx.base).origin
      // data: URLs never touch the network; everything else must be the gateway.
      const isLocal = (url: string): boolean => {
        if (url.startsWith("data:")) return true
        try {
          return new URL(url).origin === origin
        } catch {
          return false
        }
      }

      const browser = await launch(left())
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })

      // Context-level events: the page's requests plus those of any worker or service worker.
      const requests: Array<string> = []
      const failed: Array<string> = []
      const consoleErrors: Array<string> = []
      const pageErrors: Array<string> = []
      context.on("request", (r) => {
        requests.push(r.url())
      })
      context.on("requestfailed", (r) => {
        failed.push(`${r.method()} ${r.url()}: ${r.failure()?.errorText ?? "failed"}`)
      })
      context.on("response", (r) => {
        if (r.status() >= 400) failed.push(`${r.request().method()} ${r.url()}: HTTP ${r.status()}`)
      })
      // Should the page reach out anyway, abort that here rather than try the network (it is still recorded).
      await context.route(
        (url) => !isLocal(url.href),
        (route) => route.abort("blockedbyclient")
      )

      const page = await context.newPage()
      page.on("console", (m) => {
        const where = m.location().url
        if (m.type() === "error" && !isFaviconMiss(m.text(), where, origin))
          consoleErrors.push(`${m.text()} (at ${where || "?"})`)
      })
      page.on("pageerror", (e) => {
        pageErrors.push(String(e))
      })
      page.on("websocket", (ws) => {
        requests.push(ws.url())
      })

      const problems = (timed: ReadonlyArray<string> = []) => ({
        [`requests outside the gateway (${origin})`]: [...new Set([...requests, ...timed].filter((u) => !isLocal(u)))],
        "failed requests": failed,
        "console errors": consoleErrors.filter((e) => !e.startsWith(CONSOLE_PROBE)),
        "uncaught page errors": pageErrors
      })
      /** Runs one browser step; if it fails, says which, with everything recorded so far. */
      const step = async <A>(what: string, run: () => Promise<A>): Promise<A> => {
        try {
          return await run()
        } catch (e) {
          const first = (e instanceof Error ? e.message : String(e)).split("\n")[0]
          throw new Error(`${what}: ${first}\nrecorded so far: ${JSON.stringify(problems(), null, 2)}`, { cause: e })
        }
      }

      const nav = await step("GET /docs", () => page.goto(`${ctx.base}/docs`, { waitUntil: "load", timeout: left() }))
      expect(nav?.status(), "GET /docs").toBe(200)

      // The sidebar lists every operation once Scalar has fetched and parsed /openapi.json.
      const sidebar = page.locator("aside")
      for (const op of ops) {
        await step(`sidebar entry "${op.summary}"`, () =>
          sidebar.getByText(op.summary, { exact: true }).first().waitFor({ state: "visible", timeout: left() })
        )
      }
      // Opening an operation from the sidebar renders its section, headed by its summary, in the content pane.
      const content = page.locator("main")
      const opened: Array<string> = []
      for (const op of toOpen(ops)) {
        await step(`operation section "${op.summary}"`, async () => {
          await sidebar.getByText(op.summary, { exact: true }).first().click({ timeout: left() })
          await content
            .getByRole("heading", { name: op.summary, exact: true })
            .first()
            .waitFor({ state: "visible", timeout: left() })
        })
        opened.push(op.summary)
      }
      expect(opened, "operation sections rendered in the content pane").toHaveLength(3)

      // What the page fetched according to its own Resource Timing: a witness independent of Playwright's.
      const timed = await page.evaluate(() => performance.getEntriesByType("resource").map((e) => e.name))
      // The console recorder does see errors: one logged by the page arrives (and is left out below).
      await page.evaluate((probe) => console.error(probe), CONSOLE_PROBE)
      await expect.poll(() => consoleErrors.some((e) => e.startsWith(CONSOLE_PROBE)), { timeout: 2_000 }).toBe(true)

      const paths = new Set(requests.filter(isLocal).map((u) => new URL(u).pathname))
      expect([...paths], "the page loaded its HTML, Scalar's bundle and the spec from the gateway").toEqual(
        expect.arrayContaining(["/docs", "/docs/scalar.js", "/openapi.json"])
      )
      // One assertion, so that a failure lists every kind of problem at once.
      expect(problems(timed), "the /docs page loads everything from the gateway, without errors").toEqual({
        [`requests outside the gateway (${origin})`]: [],
        "failed requests": [],
        "console errors": [],
        "uncaught page errors": []
      })
    })

    itLeaksNoSecrets(ctx)
  }
)
