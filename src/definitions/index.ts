/**
 * The definitions layer's entry module: RabbitMQ's definitions format and the JSON form of
 * field values and message properties (management's API and the definitions files use it).
 * Importing and exporting whole definitions reaches plugins through the core's admin
 * interface (`AdminCore.importDefinitions`, `exportDefinitions`).
 */
export {
  type Json,
  fieldValueToJson,
  fieldTableToJson,
  jsonToFieldValue,
  jsonToFieldTable,
  propertiesToJson,
  propertiesFromJson,
} from './json-values.js';
export { hashingAlgorithmOf, tagList, type RabbitDefinitions } from './rabbit-format.js';
export type { ImportReport } from './import-definitions.js';
