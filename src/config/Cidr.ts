/**
 * IP addresses and CIDR ranges, IPv4 and IPv6, for `server.ip_rate_limit.trusted_proxies`: parsed
 * once at config load (a bad entry is a config error naming the field), matched per request with
 * a few byte compares. Addresses are 16 bytes; an IPv4 address is its IPv4-mapped IPv6 form
 * (`::ffff:a.b.c.d`), so `10.0.0.0/8` also matches a dual-stack socket's `::ffff:10.1.2.3`.
 */

/** A parsed address: 16 bytes (IPv4 mapped into IPv6). */
export type IpBytes = Uint8Array

const parseIpv4 = (text: string): Array<number> | undefined => {
  const parts = text.split(".")
  if (parts.length !== 4) return undefined
  const out: Array<number> = []
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p.startsWith("0"))) return undefined
    const n = Number(p)
    if (n > 255) return undefined
    out.push(n)
  }
  return out
}

const parseIpv6 = (text: string): Array<number> | undefined => {
  const halves = text.split("::")
  if (halves.length > 2) return undefined
  const groups = (s: string): Array<number> | undefined => {
    if (s === "") return []
    const out: Array<number> = []
    const parts = s.split(":")
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p)
        if (v4 === undefined) return undefined
        out.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!)
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined
        out.push(Number.parseInt(p, 16))
      }
    }
    return out
  }
  const head = groups(halves[0]!)
  const tail = halves.length === 2 ? groups(halves[1]!) : []
  if (head === undefined || tail === undefined) return undefined
  const missing = 8 - head.length - tail.length
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined
  const words = [...head, ...Array.from({ length: halves.length === 2 ? missing : 0 }, () => 0), ...tail]
  return words.flatMap((w) => [w >> 8, w & 0xff])
}

/** The 16 bytes of an IPv4 or IPv6 address (a zone `%eth0` and IPv6 brackets ignored); undefined when it is none. */
export const parseIp = (text: string): IpBytes | undefined => {
  let t = text.trim()
  if (t.startsWith("[") && t.endsWith("]")) t = t.slice(1, -1)
  const zone = t.indexOf("%")
  if (zone !== -1) t = t.slice(0, zone)
  const v4 = parseIpv4(t)
  if (v4 !== undefined) return Uint8Array.from([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4])
  if (!t.includes(":")) return undefined
  const v6 = parseIpv6(t)
  return v6 === undefined ? undefined : Uint8Array.from(v6)
}

export interface Cidr {
  readonly bytes: IpBytes
  /** Prefix length over the 16 bytes (an IPv4 /n is /(96 + n)). */
  readonly prefix: number
}

/** A CIDR range (`10.0.0.0/8`, `fd00::/8`) or a bare address; a message saying what is wrong otherwise. */
export const parseCidr = (text: string): Cidr | string => {
  const slash = text.indexOf("/")
  const address = slash === -1 ? text : text.slice(0, slash)
  const bytes = parseIp(address)
  if (bytes === undefined) return `expected an IPv4 or IPv6 address or CIDR range, got "${text}"`
  const v4 = parseIpv4(address.trim()) !== undefined
  const max = v4 ? 32 : 128
  if (slash === -1) return { bytes, prefix: 128 }
  const bits = text.slice(slash + 1)
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return `expected a prefix length from 0 to ${max} in "${text}"`
  return { bytes, prefix: Number(bits) + (v4 ? 96 : 0) }
}

/** Whether `ip` lies in `cidr`. */
export const inCidr = (cidr: Cidr, ip: IpBytes): boolean => {
  const full = cidr.prefix >> 3
  for (let i = 0; i < full; i++) if (cidr.bytes[i] !== ip[i]) return false
  const rest = cidr.prefix & 7
  if (rest === 0) return true
  const mask = (0xff << (8 - rest)) & 0xff
  return (cidr.bytes[full]! & mask) === (ip[full]! & mask)
}

/** A matcher for a list of ranges: whether an address (as text) is in any; unparsable addresses are in none. */
export const cidrMatcher = (ranges: ReadonlyArray<Cidr>): ((address: string) => boolean) => {
  if (ranges.length === 0) return () => false
  return (address) => {
    const ip = parseIp(address)
    return ip !== undefined && ranges.some((r) => inCidr(r, ip))
  }
}
