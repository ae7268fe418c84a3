import { library } from "../../tsup.base.js"

// @effect/platform-node is loaded on demand by `layerServe`; an application that mounts the routes itself never needs it
export default library({ external: ["@effect/platform-node"] })
