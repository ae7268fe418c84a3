/**
 * A fault-injecting HTTP proxy on 127.0.0.1 in front of `polar-events
 * serve`: ingest requests get, in a fixed rotation, a 503, a 500, a 429 with
 * `Retry-After`, a connection dropped before the server saw the request, or
 * one dropped after the server processed it (the client never learns that it
 * succeeded); the others are forwarded untouched. It can also add latency to
 * every request and count what the server reported as inserted.
 */
import * as http from "node:http"
import { listen, readBody } from "@polar-events/test-support"

/** What the proxy does with one request. */
export type Fault = "pass" | "503" | "500" | "429" | "drop-before" | "drop-after"

/** Options of the proxy. */
export interface ProxyOptions {
  readonly upstream: string
  /** the fault of the n-th ingest request (0-based); others always pass */
  readonly ingestFault?: (n: number) => Fault
  /** added before forwarding each request */
  readonly latencyMs?: number
  readonly retryAfterSeconds?: number
}

/** A running proxy. */
export interface Proxy {
  readonly url: string
  /** how many of each fault were served */
  readonly faults: Record<Fault, number>
  /** ingest requests seen */
  readonly ingestRequests: () => number
  /** the sum of `inserted` the server answered (delivered or not) */
  readonly inserted: () => number
  readonly close: () => Promise<void>
}

/** The default rotation: 9 of every 16 ingest requests misbehave. */
export const rotation = (n: number): Fault =>
  (["pass", "503", "drop-after", "pass", "500", "drop-before", "pass", "429", "drop-after", "pass", "503", "pass",
    "drop-before", "pass", "drop-after", "pass"] as const)[n % 16]!

/** Starts the proxy. */
export const startProxy = (options: ProxyOptions): Promise<Proxy> => {
  const upstream = new URL(options.upstream)
  const faults: Record<Fault, number> = { pass: 0, "503": 0, "500": 0, "429": 0, "drop-before": 0, "drop-after": 0 }
  let ingestCount = 0
  let inserted = 0
  const agent = new http.Agent({ keepAlive: true })

  const forward = (req: http.IncomingMessage, body: Buffer) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      const headers = { ...req.headers, host: upstream.host }
      const r = http.request({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent
      }, (res) => {
        readBody(res).then((b) => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: b }), reject)
      })
      r.on("error", reject)
      r.end(body)
    })

  const server = http.createServer(async (req, res) => {
    try {
      const body = await readBody(req)
      if (options.latencyMs) await new Promise((r) => setTimeout(r, options.latencyMs))
      const isIngest = req.method === "POST" && (req.url ?? "").startsWith("/v1/events/ingest")
      const fault: Fault = isIngest && options.ingestFault ? options.ingestFault(ingestCount++) : "pass"
      if (isIngest && !options.ingestFault) ingestCount++
      faults[fault]++
      switch (fault) {
        case "503":
        case "500":
          res.writeHead(Number(fault), { "content-type": "application/json" })
          res.end(JSON.stringify({ detail: "injected fault" }))
          return
        case "429":
          res.writeHead(429, { "retry-after": String(options.retryAfterSeconds ?? 1), "content-length": "0" })
          res.end()
          return
        case "drop-before":
          req.socket.destroy()
          return
        default: {
          const answer = await forward(req, body)
          if (isIngest && answer.status === 200) inserted += (JSON.parse(answer.body.toString("utf8")) as { inserted: number }).inserted
          if (fault === "drop-after") {
            req.socket.destroy()
            return
          }
          const headers = { ...answer.headers }
          delete headers["transfer-encoding"]
          delete headers.connection
          res.writeHead(answer.status, { ...headers, "content-length": String(answer.body.length) })
          res.end(answer.body)
        }
      }
    } catch {
      req.socket.destroy()
    }
  })
  return listen(server).then((url) => ({
    url,
    faults,
    ingestRequests: () => ingestCount,
    inserted: () => inserted,
    close: () =>
      new Promise<void>((done) => {
        agent.destroy()
        server.closeAllConnections()
        server.close(() => done())
      })
  }))
}
