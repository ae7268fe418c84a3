import type { IncomingMessage, Server } from "node:http"

/** A deterministic pseudo-random source in [0, 1) (mulberry32): the same seed gives the same data in every run. */
export declare const random: (seed: number) => () => number
/** A UUID v4 drawn from `rand`. */
export declare const uuid4: (rand: () => number) => string
/** A time-ordered UUID v7 for the time `ms`, its random bits drawn from `rand`. */
export declare const uuid7: (ms: number, rand: () => number) => string
/** The whole body of a request to a test server. */
export declare const readBody: (req: IncomingMessage) => Promise<Buffer>
/** Starts `server` on a free port of 127.0.0.1 and gives its base URL (`http://127.0.0.1:<port>`). */
export declare const listen: (server: Server) => Promise<string>
