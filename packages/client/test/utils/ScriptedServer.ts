/**
 * An HTTP server on 127.0.0.1 whose every answer a test scripts: for exact
 * status, header and body cases (a 429 with a given Retry-After, a 501, a body
 * that breaks the spec, an echo of the request's headers).
 */
import { Effect } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface Seen {
  readonly n: number
  readonly at: number
  readonly method: string
  readonly url: string
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface Answer {
  readonly status: number
  readonly headers?: Record<string, string>
  readonly body?: string | undefined
  /** close the connection instead of answering */
  readonly drop?: boolean
}

export interface ScriptedServer {
  readonly url: string
  readonly seen: ReadonlyArray<Seen>
  readonly close: () => Promise<void>
}

export const start = (script: (request: Seen) => Answer | Promise<Answer>): Promise<ScriptedServer> => {
  const seen: Array<Seen> = []
  const sockets = new Set<import("node:net").Socket>()
  const server = Http.createServer((req, res) => {
    const at = Date.now()
    const chunks: Array<Buffer> = []
    req.on("data", (c: Buffer) => chunks.push(c))
    req.on("end", async () => {
      const request: Seen = {
        n: seen.length,
        at,
        method: req.method ?? "GET",
        url: req.url ?? "/",
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8")
      }
      seen.push(request)
      const answer = await script(request)
      if (answer.drop === true) return req.socket.destroy()
      const body = answer.body ?? ""
      res.writeHead(answer.status, {
        "content-length": Buffer.byteLength(body),
        ...(body === "" ? {} : { "content-type": "application/json" }),
        ...answer.headers
      })
      res.end(body)
    })
  })
  server.on("connection", (s) => {
    sockets.add(s)
    s.on("close", () => sockets.delete(s))
  })
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        seen,
        close: () =>
          new Promise<void>((done) => {
            for (const s of sockets) s.destroy()
            server.close(() => done())
          })
      })
    })
  })
}

/** A scripted server for the duration of the scope. */
export const scoped = (script: (request: Seen) => Answer | Promise<Answer>) =>
  Effect.acquireRelease(Effect.promise(() => start(script)), (s) => Effect.promise(() => s.close()))

/** A fine answer to an ingest: everything inserted. */
export const ingested = (request: Seen): Answer => {
  const events = (JSON.parse(request.body) as { events: Array<unknown> }).events
  return { status: 200, body: JSON.stringify({ inserted: events.length, duplicates: 0 }) }
}
