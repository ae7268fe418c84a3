import type * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import { ValidationError } from "@polar-events/core"
import { Effect, Stream } from "effect"
import { Readable } from "node:stream"
import { BodyParseError, LengthRequired, RequestBodyTooLarge } from "../ServerError.js"
import { pythonJsonError } from "./jsonError.js"

const DECIMAL = /^\d+$/

/**
 * The declared length of a POST body: required (Polar answers 411 without
 * it, so chunked uploads are refused) and at most `limit` (413, before a byte
 * is read).
 */
export const declaredLength = (
  headers: Readonly<Record<string, string | undefined>>,
  limit: number
): LengthRequired | RequestBodyTooLarge | number => {
  const value = headers["content-length"]
  if (value === undefined || !DECIMAL.test(value.trim())) return new LengthRequired()
  const length = Number(value.trim())
  return length > limit ? new RequestBodyTooLarge({ limit }) : length
}

/**
 * Reads the body, at most `limit` bytes: chunks are kept until the end and
 * joined once, and reading stops with a 413 as soon as the count passes the
 * limit (a peer that sends more than it declared). On Node the request's
 * stream is read directly (the rest of an oversized body is drained, so the
 * 413 can still be answered); elsewhere through the platform's `stream`.
 */
export const readBounded = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, RequestBodyTooLarge | BodyParseError> =>
  request.source instanceof Readable ? readNode(request.source, limit) : readStream(request, limit)

const readNode = (source: Readable, limit: number): Effect.Effect<Uint8Array, RequestBodyTooLarge | BodyParseError> =>
  Effect.async((resume) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const cleanup = () => {
      source.off("data", onData)
      source.off("end", onEnd)
      source.off("error", onError)
      source.off("aborted", onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        source.resume()
        resume(Effect.fail(new RequestBodyTooLarge({ limit })))
      } else {
        chunks.push(chunk)
      }
    }
    const onEnd = () => {
      cleanup()
      resume(Effect.succeed(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    }
    const onError = () => {
      cleanup()
      resume(Effect.fail(new BodyParseError()))
    }
    if (source.readableEnded) return resume(Effect.succeed(new Uint8Array(0)))
    source.on("data", onData)
    source.once("end", onEnd)
    source.once("error", onError)
    source.once("aborted", onError)
    return Effect.sync(cleanup)
  })

const readStream = (
  request: HttpServerRequest.HttpServerRequest,
  limit: number
): Effect.Effect<Uint8Array, RequestBodyTooLarge | BodyParseError> =>
  Effect.suspend(() => {
    const chunks: Array<Uint8Array> = []
    let size = 0
    return request.stream.pipe(
      Stream.mapError(() => new BodyParseError()),
      Stream.runForEachChunk((chunk) => {
        for (const bytes of chunk) {
          size += bytes.length
          if (size > limit) return Effect.fail(new RequestBodyTooLarge({ limit }))
          chunks.push(bytes)
        }
        return Effect.void
      }),
      Effect.map(() => (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)))
    )
  })

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false })

/** The media type of a `Content-Type` header, lowercased, without parameters. */
const mediaType = (contentType: string | undefined): string | undefined => {
  if (contentType === undefined) return undefined
  const semi = contentType.indexOf(";")
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase()
}

/** FastAPI parses the body as JSON without a Content-Type, or with `application/json` / `application/*+json`. */
const isJson = (type: string | undefined): boolean =>
  type === undefined || type === "" ||
  (type.startsWith("application/") && (type === "application/json" || type.endsWith("+json")))

const jsonError = (text: string): ValidationError.RequestValidationError => {
  const error = pythonJsonError(text) ?? { pos: 0, msg: "Expecting value" }
  return ValidationError.make([
    ValidationError.makeDetail(["body", error.pos], "json_invalid", "JSON decode error", {}, { error: error.msg })
  ])
}

/**
 * The body as FastAPI hands it to validation: JSON for a JSON (or missing)
 * Content-Type, the raw text for any other type (which then fails as "not an
 * object" at `["body"]`, as on Polar); an empty body is a missing body. Bytes
 * that are not UTF-8 are a 400, as FastAPI answers.
 */
export const parseBody = (
  bytes: Uint8Array,
  contentType: string | undefined
): Effect.Effect<unknown, ValidationError.RequestValidationError | BodyParseError> => {
  if (bytes.length === 0) {
    return Effect.fail(ValidationError.make([ValidationError.makeDetail(["body"], "missing", "Field required", null)]))
  }
  let text: string
  try {
    text = utf8.decode(bytes)
  } catch {
    return Effect.fail(new BodyParseError())
  }
  if (!isJson(mediaType(contentType))) return Effect.succeed(text)
  try {
    return Effect.succeed(JSON.parse(text))
  } catch {
    return Effect.fail(jsonError(text))
  }
}
