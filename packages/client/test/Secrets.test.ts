/**
 * The access token never appears in a log line, an error or a span: a tracer
 * and a logger that keep everything watch real requests that succeed, fail,
 * retry, time out and meet servers that echo the token back.
 */
import { assert, describe, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Effect,
  Exit,
  HashMap,
  Inspectable,
  List,
  Logger,
  LogLevel,
  Option,
  Redacted,
  Stream,
  Tracer
} from "effect"
import * as EventsClient from "../src/EventsClient.js"
import * as Ingester from "../src/Ingester.js"
import { client, event, polarServer } from "./utils/layers.js"
import * as Scripted from "./utils/ScriptedServer.js"

const TOKEN = "polar_oat_Sup3rS3cretT0kenValue_4f9a1c2e7b"

class CapturedSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly spanId = Math.random().toString(16).slice(2)
  readonly traceId = "trace"
  readonly sampled = true
  status: Tracer.SpanStatus
  readonly attributes = new Map<string, unknown>()
  readonly events: Array<[string, Record<string, unknown> | undefined]> = []
  links: Array<Tracer.SpanLink>
  exit: Exit.Exit<unknown, unknown> | undefined
  constructor(
    readonly name: string,
    readonly parent: Option.Option<Tracer.AnySpan>,
    readonly context: Context.Context<never>,
    links: ReadonlyArray<Tracer.SpanLink>,
    startTime: bigint,
    readonly kind: Tracer.SpanKind
  ) {
    this.status = { _tag: "Started", startTime }
    this.links = [...links]
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.status = { _tag: "Ended", startTime: this.status.startTime, endTime, exit }
    this.exit = exit
  }
  attribute(key: string, value: unknown) {
    this.attributes.set(key, value)
  }
  event(name: string, _startTime: bigint, attributes?: Record<string, unknown>) {
    this.events.push([name, attributes])
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.links.push(...links)
  }
}

const text = (u: unknown): string => {
  if (typeof u === "string") return u
  if (Redacted.isRedacted(u)) return String(u)
  try {
    return Inspectable.format(u) + " " + String(u) + " " + JSON.stringify(u)
  } catch {
    return String(u)
  }
}

describe("the access token", () => {
  it.scopedLive("appears in no log line, error message or span attribute", () =>
    Effect.gen(function*() {
      const spans: Array<CapturedSpan> = []
      const lines: Array<string> = []
      const errors: Array<unknown> = []
      const tracer = Tracer.make({
        span: (name, parent, context, links, startTime, kind) => {
          const span = new CapturedSpan(name, parent, context, links, startTime, kind)
          spans.push(span)
          return span
        },
        context: (f) => f()
      })
      const logger = Logger.make(({ annotations, cause, logLevel, message, spans: logSpans }) => {
        lines.push(
          [
            logLevel.label,
            text(message),
            Cause.isEmpty(cause) ? "" : Cause.pretty(cause, { renderErrorCause: true }),
            ...HashMap.toEntries(annotations).map(([k, v]) => `${k}=${text(v)}`),
            ...List.toArray(logSpans).map((s) => s.label)
          ].join(" | ")
        )
      })
      const observe = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
        effect.pipe(
          Effect.tapErrorCause((cause) =>
            Effect.sync(() => {
              errors.push(Cause.pretty(cause, { renderErrorCause: true }))
              for (const e of Cause.failures(cause)) errors.push(e, (e as Error).message, (e as Error).stack)
            })
          ),
          Effect.exit,
          Effect.withTracer(tracer),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )

      const server = yield* polarServer({ token: TOKEN })
      server.seed([])
      // a server that echoes the Authorization header in its error bodies and WWW-Authenticate
      const echo = yield* Scripted.scoped((req) => {
        const auth = req.headers.authorization ?? ""
        if (req.n % 3 === 0) return { status: 500, body: `upstream said: ${auth}` }
        if (req.n % 3 === 1) {
          return {
            status: 401,
            headers: { "www-authenticate": `Bearer error="${auth}"` },
            body: JSON.stringify({ error: auth, detail: auth })
          }
        }
        return { status: 404, body: JSON.stringify({ error: "ResourceNotFound", detail: `no ${auth}` }) }
      })
      const slow = yield* Scripted.scoped(() => new Promise<Scripted.Answer>((r) => setTimeout(() => r({ status: 200 }), 2000)))
      const limited = yield* Scripted.scoped((req) =>
        req.n === 0 ? { status: 429, headers: { "retry-after": "0" } } : Scripted.ingested(req)
      )
      const refused = yield* Scripted.scoped(() => ({ status: 200 }))
      yield* Effect.promise(() => refused.close())

      const withClient = <A, E>(url: string, f: (c: EventsClient.Service) => Effect.Effect<A, E>, options = {}) =>
        observe(
          Effect.flatMap(EventsClient.EventsClient, f).pipe(
            Effect.provide(client(url, TOKEN, { retry: { initialDelay: "1 millis", maxAttempts: 3 }, ...options }, true))
          )
        )

      const results = [
        yield* withClient(server.url, (c) => c.ingest([event(1), event(2)])),
        yield* withClient(server.url, (c) => c.ingest([{ name: "", externalCustomerId: TOKEN }])),
        yield* withClient(server.url, (c) => Stream.runCollect(c.list({ limit: 5 }))),
        yield* withClient(server.url, (c) => c.get("3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")),
        yield* withClient(echo.url, (c) => c.ingest([event(3)])),
        yield* withClient(echo.url, (c) => c.ingest([event(4)])),
        yield* withClient(echo.url, (c) => c.get("3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")),
        yield* withClient(echo.url, (c) => c.get("3f1c2a6e-8b4d-4c1e-9a7f-2d5b6c8e9f01")),
        yield* withClient(slow.url, (c) => c.ingest([event(5)]), { timeout: "100 millis" }),
        yield* withClient(limited.url, (c) => c.ingest([event(6)])),
        yield* withClient(refused.url, (c) => c.ingest([event(7)])),
        yield* observe(
          Effect.scoped(
            Effect.flatMap(Ingester.make({ maxBatchAge: "1 millis" }), (ingester) =>
              Effect.zipRight(ingester.offer(event(8)), ingester.flush))
          ).pipe(Effect.provide(client(echo.url, TOKEN, { retry: { initialDelay: "1 millis", maxAttempts: 2 } }, true)))
        )
      ]
      assert.deepStrictEqual(results.map((r: Exit.Exit<unknown, unknown>) => Exit.isSuccess(r)), [
        true,
        false,
        true,
        false,
        false,
        false,
        false,
        false,
        false,
        true,
        false,
        true
      ])

      // the token was really sent, and really echoed back
      assert.strictEqual(server.requests[0]!.headers.authorization, `Bearer ${TOKEN}`)
      assert.isAbove(echo.seen.length, 4)

      const spanText = spans.map((s) =>
        [
          s.name,
          ...[...s.attributes].map(([k, v]) => `${k}=${text(v)}`),
          ...s.events.map(([name, attrs]) => `${name} ${text(attrs)}`),
          s.exit === undefined ? "" : Exit.isFailure(s.exit) ? Cause.pretty(s.exit.cause) : ""
        ].join("\n")
      )
      assert.isAbove(spans.length, 20)
      assert.isAbove(lines.length, 10)
      assert.isAbove(errors.length, 10)
      // a span per request and per attempt, the trace propagated to the server
      assert.isTrue(spans.some((s) => s.name === "PolarEvents.ingest"))
      const attempt = spans.find((s) => s.name === "PolarEvents.http POST /v1/events/ingest")!
      assert.strictEqual(attempt.attributes.get("http.response.status_code"), 200)
      assert.strictEqual(attempt.attributes.get("url.path"), "/v1/events/ingest")
      assert.match(String(server.requests[0]!.headers.traceparent), /^00-trace-[0-9a-f]+-01$/)
      assert.isTrue(spans.some((s) => s.name === "PolarEvents.listPage"))
      assert.isTrue(lines.some((l) => l.includes("<redacted>")), "an echoed token was scrubbed, not dropped silently")

      const everything = [...spanText, ...lines, ...errors.map(text)]
      const leaks = everything.filter((t) => t.includes(TOKEN) || t.includes(TOKEN.slice(10)))
      assert.deepStrictEqual(leaks, [])
    }))
})
