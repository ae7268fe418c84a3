/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of any events API.
 *
 * For every request it draws a fault from a seeded mix and either forwards
 * the request untouched or misbehaves: a 429 with `Retry-After` (seconds or
 * an HTTP date), a 5xx or 408, a connection dropped before the upstream saw
 * the request, a connection dropped after the upstream processed it, a
 * response held back longer than the client's timeout (the upstream did
 * process it), or a 413 for bodies above a limit.
 *
 * It records the arrival time of every request and, for each 429, the
 * earliest time a request may arrive again, so a test can prove that the
 * client never came back sooner than `Retry-After` allowed.
 */
import * as Http from "node:http"
import { listen, random, readBody } from "@polar-events/test-support"

export type Fault =
  | { readonly _tag: "RateLimit"; readonly retryAfterSeconds: number; readonly asDate?: boolean }
  | { readonly _tag: "Status"; readonly status: 408 | 500 | 502 | 503 | 504; readonly retryAfterSeconds?: number }
  | { readonly _tag: "DropBefore" }
  | { readonly _tag: "DropAfter" }
  | { readonly _tag: "Slow"; readonly delayMs: number }

/** A fault with the probability of drawing it for one request. */
export interface WeightedFault {
  readonly fault: Fault
  readonly p: number
}

export interface FaultProxyOptions {
  readonly upstream: string
  readonly mix: ReadonlyArray<WeightedFault>
  /** bodies larger than this get 413 without reaching the upstream */
  readonly maxBodyBytes?: number
  readonly seed?: number
  /** at most this many 429s in all (each 429 costs the test its Retry-After) */
  readonly maxRateLimits?: number
  /** only requests to paths starting with this are faulted (default: all) */
  readonly pathPrefix?: string
}

export interface ProxyRecord {
  readonly at: number
  readonly method: string
  readonly path: string
  readonly bytes: number
  /** the external_ids of an ingest body */
  readonly externalIds: ReadonlyArray<string>
  readonly fault: Fault["_tag"] | "TooLarge" | "None"
  /** for a 429: epoch ms before which no request may arrive again */
  notBefore?: number
  /** when the 429 was written */
  answeredAt?: number
}

export interface FaultProxy {
  readonly url: string
  readonly records: ReadonlyArray<ProxyRecord>
  readonly counts: () => Record<string, number>
  readonly close: () => Promise<void>
}

/** A small deterministic PRNG (mulberry32). */
export const prng = random

const externalIdsOf = (body: Buffer): ReadonlyArray<string> => {
  if (body.length === 0) return []
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { events?: Array<{ external_id?: string }> }
    return Array.isArray(parsed.events) ? parsed.events.map((e) => String(e.external_id)) : []
  } catch {
    return []
  }
}

export const start = (options: FaultProxyOptions): Promise<FaultProxy> => {
  const upstream = new URL(options.upstream)
  const agent = new Http.Agent({ keepAlive: true, maxSockets: 16 })
  const random = prng(options.seed ?? 1)
  const records: Array<ProxyRecord> = []
  const sockets = new Set<import("node:net").Socket>()
  let rateLimits = 0

  const draw = (): Fault | undefined => {
    const r = random()
    let acc = 0
    for (const { fault, p } of options.mix) {
      acc += p
      if (r < acc) {
        if (fault._tag === "RateLimit") {
          if (options.maxRateLimits !== undefined && rateLimits >= options.maxRateLimits) return undefined
          rateLimits++
        }
        return fault
      }
    }
    return undefined
  }

  const forward = (req: Http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: Http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host }
      const out = Http.request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers, agent },
        (res) => {
          readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject)
        }
      )
      out.on("error", reject)
      out.end(body)
    })

  const reply = (res: Http.ServerResponse, up: { status: number; headers: Http.IncomingHttpHeaders; body: Buffer }) => {
    const headers = { ...up.headers }
    delete headers["transfer-encoding"]
    delete headers.connection
    delete headers["keep-alive"]
    headers["content-length"] = String(up.body.length)
    res.writeHead(up.status, headers)
    res.end(up.body)
  }

  const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
    const at = Date.now()
    const body = await readBody(req)
    const path = (req.url ?? "/").split("?")[0]!
    const faultable = options.pathPrefix === undefined || path.startsWith(options.pathPrefix)
    const rec: { -readonly [K in keyof ProxyRecord]: ProxyRecord[K] } = {
      at,
      method: req.method ?? "GET",
      path,
      bytes: body.length,
      externalIds: req.method === "POST" ? externalIdsOf(body) : [],
      fault: "None"
    }
    records.push(rec)
    if (options.maxBodyBytes !== undefined && body.length > options.maxBodyBytes) {
      rec.fault = "TooLarge"
      const text = JSON.stringify({ error: "RequestBodyTooLarge", detail: "Request body too large" })
      res.writeHead(413, { "content-type": "application/json", "content-length": Buffer.byteLength(text) })
      return res.end(text)
    }
    const fault = faultable ? draw() : undefined
    if (fault === undefined) return reply(res, await forward(req, body))
    rec.fault = fault._tag
    switch (fault._tag) {
      case "RateLimit": {
        const now = Date.now()
        let header: string
        if (fault.asDate === true) {
          // an HTTP date has whole seconds: the earliest allowed time is that date
          const until = Math.ceil((now + fault.retryAfterSeconds * 1000) / 1000) * 1000
          header = new Date(until).toUTCString()
          rec.notBefore = until
        } else {
          header = String(fault.retryAfterSeconds)
          rec.notBefore = now + fault.retryAfterSeconds * 1000
        }
        rec.answeredAt = now
        res.writeHead(429, { "retry-after": header, "content-length": 0 })
        return res.end()
      }
      case "Status": {
        const text = fault.status === 408 ? "" : "Internal Server Error"
        res.writeHead(fault.status, {
          "content-type": "text/plain",
          "content-length": Buffer.byteLength(text),
          ...(fault.retryAfterSeconds === undefined ? {} : { "retry-after": String(fault.retryAfterSeconds) })
        })
        return res.end(text)
      }
      case "DropBefore":
        return req.socket.destroy()
      case "DropAfter": {
        await forward(req, body)
        return req.socket.destroy()
      }
      case "Slow": {
        const up = await forward(req, body)
        await new Promise((r) => setTimeout(r, fault.delayMs))
        if (!req.socket.destroyed) reply(res, up)
        return
      }
    }
  }

  const server = Http.createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) {
        res.writeHead(502, { "content-length": 0 })
        res.end()
      }
    })
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  return listen(server).then((url) => ({
    url,
    records,
    counts: () => {
      const out: Record<string, number> = {}
      for (const r of records) out[r.fault] = (out[r.fault] ?? 0) + 1
      return out
    },
    close: () =>
      new Promise<void>((done) => {
        for (const s of sockets) s.destroy()
        agent.destroy()
        server.close(() => done())
      })
  }))
}

/**
 * Checks the Retry-After promise against the records: after every 429, the
 * same events never came back before the time it allowed, and no request at
 * all arrived in that window once `graceMs` had passed (requests already in
 * flight when the 429 was written may still land in the grace period).
 * Returns the violations, empty when the client behaved.
 */
export const retryAfterViolations = (records: ReadonlyArray<ProxyRecord>, graceMs: number): Array<string> => {
  const out: Array<string> = []
  for (const r of records) {
    if (r.notBefore === undefined || r.answeredAt === undefined) continue
    const ids = new Set(r.externalIds)
    for (const later of records) {
      if (later === r || later.at < r.at) continue
      if (later.at >= r.notBefore) continue
      if (later.externalIds.some((id) => ids.has(id))) {
        out.push(`events of a 429 at ${r.at} came back at ${later.at}, ${r.notBefore - later.at} ms too early`)
      } else if (later.at > r.answeredAt + graceMs) {
        out.push(`a request arrived at ${later.at}, inside the pause of a 429 at ${r.at} (until ${r.notBefore})`)
      }
    }
  }
  return out
}
