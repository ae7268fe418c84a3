/**
 * A proxy on 127.0.0.1 that loses answers: the first `drops` ingest requests
 * are forwarded to the server, and once the server has processed them the
 * client's connection is destroyed, so the client never learns the outcome
 * and must retry. Everything else is forwarded untouched.
 */
import { Effect, type Scope } from "effect"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"

export interface DropProxy {
  readonly url: string
  /** ingest requests whose answer was lost after the server processed them */
  readonly dropped: () => number
}

export const make = (upstream: string, drops: number): Effect.Effect<DropProxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<{ server: Http.Server; proxy: DropProxy }>((resume) => {
      let dropped = 0
      const server = Http.createServer((req, res) => {
        const chunks: Array<Buffer> = []
        req.on("data", (c: Buffer) => chunks.push(c))
        req.on("end", () => {
          const body = Buffer.concat(chunks)
          const headers = { ...req.headers, host: new URL(upstream).host }
          const out = Http.request(`${upstream}${req.url}`, { method: req.method, headers }, (up) => {
            const answer: Array<Buffer> = []
            up.on("data", (c: Buffer) => answer.push(c))
            up.on("end", () => {
              if (req.method === "POST" && req.url === "/v1/events/ingest" && dropped < drops && up.statusCode === 200) {
                dropped++
                req.socket.destroy()
                return
              }
              res.writeHead(up.statusCode ?? 502, up.headers)
              res.end(Buffer.concat(answer))
            })
          })
          out.on("error", () => req.socket.destroy())
          out.end(body)
        })
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          server,
          proxy: { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dropped: () => dropped }
        })))
    }),
    ({ server }) =>
      Effect.async<void>((resume) => {
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ proxy }) => proxy))
