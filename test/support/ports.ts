/** A port that was free a moment ago (the kernel picks it; it is closed again at once): for the contract suite, the bench and the soak. */
import { createServer } from "node:net"

export const freePort = (): Promise<number> =>
  new Promise((ok, ko) => {
    const s = createServer()
    s.once("error", ko)
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address()
      const port = typeof addr === "object" && addr !== null ? addr.port : 0
      s.close(() => ok(port))
    })
  })
