/**
 * `polar-events ingest`: records one event in the local store, checked with
 * Polar's ingest rules.
 *
 * @internal
 */
import { Command, Options } from "@effect/cli"
import { EventCreate, Timestamp, ValidationError } from "@polar-events/core"
import { EventStore } from "@polar-events/store"
import { Console, Effect, Either, Option } from "effect"
import { UsageError } from "../CliError.js"
import { CliSettings } from "../GlobalOptions.js"
import { Organization } from "../Storage.js"
import { storeCommand } from "../internal/context.js"
import { parseTime } from "../internal/filters.js"
import { setPath } from "../internal/readers.js"

const FLAG_OF: Record<string, string> = {
  name: "--name",
  customer_id: "--customer-id",
  external_customer_id: "--external-customer-id",
  member_id: "--member-id",
  external_member_id: "--external-member-id",
  timestamp: "--timestamp",
  external_id: "--external-id",
  parent_id: "--parent-id",
  metadata: "--meta"
}

const usage = (error: ValidationError.RequestValidationError): UsageError =>
  new UsageError({
    message: error.detail.slice(0, 3).map((d) => {
      const rest = d.loc.slice(3)
      const key = String(rest[0] ?? "")
      const flag = FLAG_OF[key] ?? `--${key.replace(/_/g, "-")}`
      const sub = key === "metadata" && rest.length > 1 ? ` ${rest.slice(1).join(".")}` : ""
      return `${flag}${sub}: ${d.msg}`
    }).join("; ")
  })

/**
 * The command.
 *
 * @internal
 */
export const ingest = storeCommand(
  "ingest",
  {
    name: Options.text("name").pipe(Options.withPseudoName("NAME"), Options.withDescription("The event name.")),
    customerId: Options.text("customer-id").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("The Polar customer (UUID v4). Exactly one of --customer-id, --external-customer-id."),
      Options.optional
    ),
    externalCustomerId: Options.text("external-customer-id").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("Your id of the customer. Exactly one of --customer-id, --external-customer-id."),
      Options.optional
    ),
    meta: Options.text("meta").pipe(
      Options.withPseudoName("KEY=VALUE"),
      Options.withDescription(
        "Metadata (repeatable). Numbers and true/false are typed; quote to keep text (KEY='\"42\"'); " +
          "_cost.amount=12.5, _llm.input_tokens=10 set the structured keys."
      ),
      Options.repeated
    ),
    timestamp: Options.text("timestamp").pipe(
      Options.withPseudoName("TIME"),
      Options.withDescription("When it happened: ISO-8601 with a zone, or a date (default now)."),
      Options.optional
    ),
    externalId: Options.text("external-id").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("Your id of the event: a second event with the same id is a duplicate."),
      Options.optional
    ),
    memberId: Options.text("member-id").pipe(Options.withPseudoName("ID"), Options.optional),
    externalMemberId: Options.text("external-member-id").pipe(Options.withPseudoName("ID"), Options.optional),
    parentId: Options.text("parent-id").pipe(
      Options.withPseudoName("ID"),
      Options.withDescription("The parent event: its id or its external id."),
      Options.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      const hasCustomer = Option.isSome(input.customerId)
      const hasExternal = Option.isSome(input.externalCustomerId)
      if (hasCustomer === hasExternal) {
        return yield* new UsageError({
          message: hasCustomer
            ? "give exactly one of --customer-id and --external-customer-id, not both"
            : "give exactly one of --customer-id and --external-customer-id"
        })
      }
      if (Option.isSome(input.memberId) && !hasCustomer) {
        return yield* new UsageError({ message: "--member-id goes with --customer-id" })
      }
      if (Option.isSome(input.externalMemberId) && !hasExternal) {
        return yield* new UsageError({ message: "--external-member-id goes with --external-customer-id" })
      }
      const wire: Record<string, unknown> = { name: input.name }
      if (hasCustomer) wire.customer_id = Option.getOrThrow(input.customerId)
      else wire.external_customer_id = Option.getOrThrow(input.externalCustomerId)
      if (Option.isSome(input.memberId)) wire.member_id = input.memberId.value
      if (Option.isSome(input.externalMemberId)) wire.external_member_id = input.externalMemberId.value
      if (Option.isSome(input.externalId)) wire.external_id = input.externalId.value
      if (Option.isSome(input.parentId)) wire.parent_id = input.parentId.value
      if (Option.isSome(input.timestamp)) {
        const time = parseTime("--timestamp", input.timestamp.value)
        if (Either.isLeft(time)) return yield* time.left
        wire.timestamp = Timestamp.format(time.right)
      }
      const metadata: Record<string, unknown> = {}
      for (const pair of input.meta) {
        const eq = pair.indexOf("=")
        if (eq <= 0) return yield* new UsageError({ message: `--meta expects KEY=VALUE, got '${pair}'` })
        const key = pair.slice(0, eq)
        const path = key.startsWith("_cost.") || key.startsWith("_llm.") ? key.split(".") : [key]
        setPath(metadata, path, pair.slice(eq + 1))
      }
      if (input.meta.length > 0) wire.metadata = metadata
      const events = EventCreate.validate({ events: [wire] })
      if (Either.isLeft(events)) return yield* usage(events.left)
      const store = yield* EventStore.EventStore
      const org = yield* Organization
      const settings = yield* CliSettings
      const result = yield* store.ingest(org, events.right)
      yield* Console.log(
        settings.json
          ? JSON.stringify(result)
          : result.inserted === 1
          ? `ingested 1 event '${input.name}'`
          : `duplicate: an event with external id '${Option.getOrElse(input.externalId, () => "")}' is already stored`
      )
    })
).pipe(Command.withDescription("Record one event in the local store (Polar's ingest rules)."))
