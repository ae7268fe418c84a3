/**
 * The write thread: owns the write connection and runs, in order, the
 * operations the main thread posts (`begin` travels with the first
 * operation of a transaction), answering each that has a `seq` with its
 * result or error. Operations of a later transaction wait until the current
 * one has ended, then run in the order they came.
 *
 * @internal
 */
import { parentPort, workerData } from "node:worker_threads"
import { Connection } from "./connection.js"
import type { Reply, Request, ThreadError, WriterData } from "./protocol.js"

const port = parentPort!
const db = new Connection((workerData as WriterData).filename)

const run = (m: Request): unknown => {
  switch (m.op) {
    case "open":
      return db.open(m.pragmas, m.backstop)
    case "query":
      return db.query(m.sql, m.params)
    case "insertEach": {
      const rows = m.rows
      return db.insertEach(m.sql, rows.length, (i) => rows[i]!, m.then, m.then === undefined ? undefined : m.unless ?? [])
    }
    case "commit":
      return db.commit()
    case "rollback":
      return db.rollback()
    case "close":
      return db.close()
  }
}

const describe = (e: any): ThreadError => ({
  name: e?.name,
  message: String(e?.message !== undefined ? e.message : e),
  code: e?.code
})

/** the error of an operation nobody waits for: the transaction's later operations and its commit fail with it */
let failed: unknown
/** the transaction whose operations run now (0: none) */
let current = 0
let held: Array<Request> = []

const handle = (m: Request): void => {
  let reply: Reply
  let ended = false
  try {
    if (m.begin === true) {
      current = m.tx!
      failed = undefined
      db.begin()
    }
    if (failed !== undefined && m.op !== "rollback" && m.op !== "close") {
      if (m.op === "commit") db.rollback()
      throw failed
    }
    const value = run(m)
    ended = m.op === "commit" || (m.op === "insertEach" && (value as { committed: boolean }).committed)
    reply = { seq: m.seq!, ok: true, value }
  } catch (e) {
    if (m.noReply === true) failed = e
    reply = { seq: m.seq!, ok: false, error: describe(e) }
  }
  if (m.op === "rollback" || ended) {
    current = 0
    failed = undefined
  }
  if (m.noReply !== true) port.postMessage(reply)
  if (m.op === "close") port.close()
}

const onMessage = (m: Request): void => {
  if (m.tx !== undefined && current !== 0 && m.tx !== current) {
    held.push(m)
    return
  }
  handle(m)
  if (current === 0 && held.length > 0) {
    const next = held
    held = []
    for (const h of next) onMessage(h)
  }
}

port.on("message", onMessage)
