import type { PreparedEvent } from "./prepare.js"

/** end offsets: a plain array or a typed-array view (queued events keep theirs off the JavaScript heap) */
type Ends = ArrayLike<number> & { slice(from?: number, to?: number): Ends }

const OPEN = Buffer.from(`{"events":[`)
const CLOSE = Buffer.from(`]}`)
const COMMA = 0x2c

const noop = () => {}

/** The bytes `{"events":[` and `]}` add to the events of a body. @internal */
export const FRAME_BYTES = OPEN.length + CLOSE.length

/**
 * Events already encoded as JSON, kept as bytes: event `i` is
 * `buf[start(i), ends[i])`, and consecutive events are separated by exactly
 * one comma, so a run of events is one slice of `buf` and an ingest body is
 * that slice between `{"events":[` and `]}`. Keeping bytes instead of strings
 * keeps queued events off the JavaScript heap. @internal
 */
export class Encoded {
  constructor(
    readonly buf: Buffer,
    /** absolute end offset of each event in `buf` */
    readonly ends: Ends,
    /** absolute offset where the first event starts */
    readonly base: number,
    /** gives the bytes back to their queue once the events are sent (see `EncodedQueue.take`) */
    readonly release: () => void = noop
  ) {}

  static readonly empty = new Encoded(Buffer.alloc(0), new Float64Array(0), 0)

  get count(): number {
    return this.ends.length
  }

  start(i: number): number {
    return i === 0 ? this.base : this.ends[i - 1]! + 1
  }

  /** bytes of event `i` alone */
  bytesOf(i: number): number {
    return this.ends[i]! - this.start(i)
  }

  /** bytes of all events with their commas */
  get bytes(): number {
    return this.ends.length === 0 ? 0 : this.ends[this.ends.length - 1]! - this.base
  }

  /** the size of the ingest body of these events */
  get bodySize(): number {
    return FRAME_BYTES + this.bytes
  }

  /** the ingest body `{"events":[...]}` */
  body(): Buffer {
    const n = this.bytes
    const out = Buffer.allocUnsafe(FRAME_BYTES + n)
    OPEN.copy(out, 0)
    this.buf.copy(out, OPEN.length, this.base, this.base + n)
    CLOSE.copy(out, OPEN.length + n)
    return out
  }

  /** events `from` to `to` (exclusive), sharing the bytes */
  slice(from: number, to: number): Encoded {
    return from === 0 && to === this.ends.length
      ? this
      : new Encoded(this.buf, this.ends.slice(from, to), this.start(from))
  }

  json(i: number): string {
    return this.buf.toString("utf8", this.start(i), this.ends[i]!)
  }

  /** the events for which `keep(i)` holds, copied */
  filter(keep: (i: number) => boolean): Encoded {
    const parts: Array<Encoded> = []
    for (let i = 0; i < this.ends.length; i++) if (keep(i)) parts.push(this.slice(i, i + 1))
    return Encoded.concat(parts)
  }

  /** the events as `PreparedEvent`s (reads each event's `external_id`) */
  toPrepared(): Array<PreparedEvent> {
    const out: Array<PreparedEvent> = []
    for (let i = 0; i < this.ends.length; i++) {
      const json = this.json(i)
      out.push({ externalId: String((JSON.parse(json) as { external_id?: unknown }).external_id), json, bytes: this.bytesOf(i) })
    }
    return out
  }

  static fromPrepared(events: ReadonlyArray<PreparedEvent>): Encoded {
    if (events.length === 0) return Encoded.empty
    let text = ""
    const ends = new Float64Array(events.length)
    let at = 0
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!
      if (i > 0) {
        text += ","
        at++
      }
      text += e.json
      at += e.bytes
      ends[i] = at
    }
    const buf = Buffer.from(text, "utf8")
    if (buf.length !== at) throw new Error("PreparedEvent.bytes does not match its JSON")
    return new Encoded(buf, ends, 0)
  }

  static concat(parts: ReadonlyArray<Encoded>): Encoded {
    const nonEmpty = parts.filter((p) => p.count > 0)
    if (nonEmpty.length === 0) return Encoded.empty
    if (nonEmpty.length === 1) return nonEmpty[0]!
    let size = nonEmpty.length - 1
    for (const p of nonEmpty) size += p.bytes
    const buf = Buffer.allocUnsafe(size)
    let count = 0
    for (const p of nonEmpty) count += p.count
    const ends = new Float64Array(count)
    let at = 0
    let k = 0
    for (const p of nonEmpty) {
      if (at > 0) buf[at++] = COMMA
      p.buf.copy(buf, at, p.base, p.base + p.bytes)
      const shift = at - p.base
      for (let i = 0; i < p.count; i++) ends[k++] = p.ends[i]! + shift
      at += p.bytes
    }
    return new Encoded(buf, ends, 0)
  }
}

const BLOCK = 1024 * 1024

class Block {
  readonly buf: Buffer
  used = 0
  /** events written to the block */
  count = 0
  /** index of the first event not yet taken */
  head = 0
  ends = new Float64Array(1024)
  times = new Float64Array(1024)
  /** batches taken from the block and not yet released */
  refs = 0
  /** taken in full and no longer written to */
  retired = false
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }
  reset(): this {
    this.used = 0
    this.count = 0
    this.head = 0
    this.refs = 0
    this.retired = false
    return this
  }
  start(i: number): number {
    return i === 0 ? 0 : this.ends[i - 1]! + 1
  }
  add(end: number, at: number): void {
    if (this.count === this.ends.length) {
      const ends = new Float64Array(this.count * 2)
      ends.set(this.ends)
      this.ends = ends
      const times = new Float64Array(this.count * 2)
      times.set(this.times)
      this.times = times
    }
    this.ends[this.count] = end
    this.times[this.count] = at
    this.count++
  }
}

/**
 * A FIFO of encoded events with the time each was queued, in byte blocks:
 * appending writes the JSON into the current block, taking a batch returns a
 * slice of it without copying (unless the batch spans two blocks). @internal
 */
export class EncodedQueue {
  private blocks: Array<Block> = []
  /** spare blocks, reused so that a busy queue does not allocate a block per thousand events */
  private free: Array<Block> = []
  size = 0
  /** bytes of the queued events' JSON, without separators */
  bytes = 0

  push(json: string, at: number): number {
    let b = this.blocks[this.blocks.length - 1]
    if (b === undefined || b.buf.length - b.used < 3 * json.length + 1) {
      const exact = Buffer.byteLength(json) + 1
      if (b === undefined || b.buf.length - b.used < exact) {
        b = exact <= BLOCK && this.free.length > 0 ? this.free.pop()!.reset() : new Block(Math.max(BLOCK, exact))
        this.blocks.push(b)
        this.retire()
      }
    }
    if (b.count > 0) b.buf[b.used++] = COMMA
    const n = b.buf.write(json, b.used, "utf8")
    b.used += n
    b.add(b.used, at)
    this.size++
    this.bytes += n
    return n
  }

  /** when the oldest queued event was queued */
  oldest(): number {
    const b = this.blocks[0]!
    return b.times[b.head]!
  }

  dropOldest(): void {
    const b = this.blocks[0]!
    this.bytes -= b.ends[b.head]! - b.start(b.head)
    b.head++
    this.size--
    this.retire()
  }

  /** up to `maxCount` events and about `maxBytes` bytes (at least one event) */
  take(maxCount: number, maxBytes: number): Encoded {
    const parts: Array<Encoded> = []
    let count = 0
    let bytes = 0
    while (count < maxCount && this.size > 0) {
      const b = this.blocks[0]!
      const first = b.head
      let i = first
      while (i < b.count && count < maxCount) {
        const n = b.ends[i]! - b.start(i)
        if (count > 0 && bytes + n > maxBytes) break
        bytes += n
        count++
        i++
      }
      if (i === first) break
      b.refs++
      parts.push(new Encoded(b.buf, b.ends.subarray(first, i), b.start(first), () => this.unref(b)))
      this.size -= i - first
      b.head = i
      this.retire()
      if (i < b.count) break
    }
    this.bytes -= bytes
    if (parts.length <= 1) return parts[0] ?? Encoded.empty
    // a batch across blocks is copied: the blocks are free of it at once
    const joined = Encoded.concat(parts)
    for (const p of parts) p.release()
    return joined
  }

  private unref(b: Block): void {
    b.refs--
    this.recycle(b)
  }

  private recycle(b: Block): void {
    if (b.retired && b.refs === 0 && b.buf.length === BLOCK && this.free.length < 4) {
      b.retired = false
      this.free.push(b)
    }
  }

  drain(): Encoded {
    return this.take(Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)
  }

  /** drops the first block once it is consumed and a later one is written to */
  private retire(): void {
    const b = this.blocks[0]
    if (b !== undefined && b.head === b.count && this.blocks.length > 1) {
      this.blocks.shift()
      b.retired = true
      this.recycle(b)
    }
  }
}
