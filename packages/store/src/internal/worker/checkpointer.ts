/**
 * The checkpointer thread: its own connection on the store's file copies
 * the WAL back into the database (`wal_checkpoint(PASSIVE)`) every
 * `interval` ms, at once again while more than `pages` pages are behind.
 * The message `"stop"` closes the connection and ends the thread.
 *
 * @internal
 */
import Sqlite from "better-sqlite3"
import { parentPort, workerData } from "node:worker_threads"
import type { CheckpointerData, Stop } from "./protocol.js"

const data = workerData as CheckpointerData
const port = parentPort!
const db = new Sqlite(data.filename)
db.pragma("busy_timeout = 0")
let stopped = false
let timer: ReturnType<typeof setTimeout> | ReturnType<typeof setImmediate> | undefined

const tick = (): void => {
  if (stopped) return
  let behind = 0
  try {
    const r = (db.pragma("wal_checkpoint(PASSIVE)") as Array<{ log: number; checkpointed: number }>)[0]!
    behind = r.log - r.checkpointed
  } catch {
    // busy: the next tick tries again
  }
  timer = behind > data.pages ? setImmediate(tick) : setTimeout(tick, data.interval)
}

port.on("message", (_: Stop) => {
  stopped = true
  clearTimeout(timer as ReturnType<typeof setTimeout>)
  clearImmediate(timer as ReturnType<typeof setImmediate>)
  db.close()
  port.close()
})
tick()
