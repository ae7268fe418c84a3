/**
 * Bearer tokens bound to one organization and scopes.
 *
 * @since 0.1.0
 */
export * as AccessToken from "./AccessToken.js"
/**
 * Polar's events API over any `EventStore`: routes, layers and a Node server.
 *
 * @since 0.1.0
 */
export * as EventsServer from "./EventsServer.js"
/**
 * The errors the server answers with (401, 403, 404, 411, 413, 414, 429) and
 * their wire bodies.
 *
 * @since 0.1.0
 */
export * as ServerError from "./ServerError.js"
