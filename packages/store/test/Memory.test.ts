import { layerMemory } from "../src/MemoryEventStore.js"
import { conformance } from "./conformance.js"

conformance("memory", layerMemory)
