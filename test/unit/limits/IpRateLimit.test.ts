// Per-IP token buckets in the bounded shared table, the client IP behind trusted proxies, CIDRs.
import { describe, expect, it } from "vitest"
import { cidrMatcher, inCidr, parseCidr, parseIp } from "../../../src/config/Cidr.ts"
import { admitIp, clientIp, ENTRIES_PER_SLOT } from "../../../src/limits/IpRateLimit.ts"
import { localSlot } from "../../../src/state/Slots.ts"

const matcher = (...ranges: ReadonlyArray<string>) =>
  cidrMatcher(
    ranges.map((r) => {
      const c = parseCidr(r)
      if (typeof c === "string") throw new Error(c)
      return c
    })
  )

describe("CIDR ranges", () => {
  it("parses IPv4, IPv6, IPv4-mapped and bare addresses; rejects the rest with a message", () => {
    expect(parseIp("10.1.2.3")).toBeDefined()
    expect(parseIp("::1")).toBeDefined()
    expect(parseIp("[fe80::1%eth0]")).toBeDefined()
    expect(parseIp("2001:db8::10.0.0.1")).toBeDefined()
    expect(parseIp("::ffff:127.0.0.1")).toEqual(parseIp("127.0.0.1"))
    for (const bad of ["1.2.3", "1.2.3.256", "01.2.3.4", "1::2::3", "g::1", "", "localhost", "1:2:3:4:5:6:7:8:9"]) {
      expect(parseIp(bad), bad).toBeUndefined()
    }
    expect(parseCidr("10.0.0.0/33")).toMatch(/prefix length from 0 to 32/)
    expect(parseCidr("fd00::/129")).toMatch(/prefix length from 0 to 128/)
    expect(parseCidr("nope/8")).toMatch(/expected an IPv4 or IPv6 address or CIDR range/)
  })

  it("matches by prefix, IPv4 also in its IPv4-mapped IPv6 form", () => {
    const m = matcher("10.0.0.0/8", "192.168.1.7", "fd00::/8", "172.16.0.0/12")
    expect(m("10.200.3.4")).toBe(true)
    expect(m("::ffff:10.9.9.9")).toBe(true)
    expect(m("11.0.0.1")).toBe(false)
    expect(m("192.168.1.7")).toBe(true)
    expect(m("192.168.1.8")).toBe(false)
    expect(m("fd12:3456::1")).toBe(true)
    expect(m("fe00::1")).toBe(false)
    expect(m("172.31.255.255")).toBe(true)
    expect(m("172.32.0.0")).toBe(false)
    expect(m("not an ip")).toBe(false)
    const all = parseCidr("0.0.0.0/0")
    if (typeof all === "string") throw new Error(all)
    expect(inCidr(all, parseIp("8.8.8.8")!)).toBe(true)
    expect(inCidr(all, parseIp("::1")!)).toBe(false)
  })
})

describe("client IP", () => {
  const trusted = matcher("10.0.0.0/8")
  it("is the peer when it is not a trusted proxy, whatever X-Forwarded-For says", () => {
    expect(clientIp("203.0.113.5", "1.1.1.1", trusted)).toBe(clientIp("203.0.113.5", undefined, trusted))
    expect(clientIp("203.0.113.5", "1.1.1.1", trusted)).not.toBe(clientIp("1.1.1.1", undefined, trusted))
  })
  it("behind trusted proxies: the right-most hop that is not trusted", () => {
    const client = clientIp("198.51.100.9", undefined, trusted)
    expect(clientIp("10.0.0.1", "6.6.6.6, 198.51.100.9, 10.0.0.2", trusted)).toBe(client)
    // A client cannot forge its way past the right-most untrusted hop by prepending entries.
    expect(clientIp("10.0.0.1", "1.2.3.4, 198.51.100.9", trusted)).toBe(client)
    // Every hop trusted: the left-most.
    expect(clientIp("10.0.0.1", "10.0.0.3, 10.0.0.2", trusted)).toBe(clientIp("10.0.0.3", undefined, trusted))
    expect(clientIp(undefined, "1.2.3.4", trusted)).toBeUndefined()
  })
})

describe("IP buckets in a bounded table", () => {
  const settings = { rps: 1, burst: 3 }
  it("each IP has its own bucket: burst at once, then rps per second", () => {
    const table = Array.from({ length: 4 }, localSlot)
    let now = 5_000
    const take = (ip: string) => admitIp(table, ip, settings, now)
    expect([take("a"), take("a"), take("a")]).toEqual([undefined, undefined, undefined])
    expect(take("a")).toMatchObject({ limit: "requests_per_second", scope: "ip", value: 1, retryAfterMs: 1000 })
    expect(take("b")).toBeUndefined()
    now += 1000
    expect(take("a")).toBeUndefined()
    expect(take("a")).toBeDefined()
  })

  it("stays bounded: forgets full buckets first, then the least recently used", () => {
    const table = [localSlot()]
    let now = 1_000
    const take = (ip: string) => admitIp(table, ip, settings, now)
    // Drain "hot", then fill every other entry with partly drained buckets.
    for (let i = 0; i < 3; i++) take("hot")
    for (let i = 1; i < ENTRIES_PER_SLOT; i++) {
      now += 1
      take(`ip${i}`)
    }
    expect(take("hot")).toBeDefined() // still remembered: empty, and now the most recently used
    now += 1
    take("newcomer") // evicts the least recently used partly drained bucket: ip1's
    expect(take("hot")).toBeDefined()
    // ip1 was forgotten with 2 of its 3 tokens left: it starts again from a full bucket (the approximation).
    expect([take("ip1"), take("ip1"), take("ip1")]).toEqual([undefined, undefined, undefined])
    expect(take("ip1")).toBeDefined()
    // Once the buckets refill to full they are forgotten first, and nothing changes for anyone.
    now += 10_000
    for (let i = 0; i < 3 * ENTRIES_PER_SLOT; i++) expect(take(`fresh${i % ENTRIES_PER_SLOT}`)).toBeUndefined()
  })
})
