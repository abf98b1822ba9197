/**
 * The codec layer's entry module: the canonical message form (AMQP basic properties and
 * field tables) with its wire readers and writers. Pure: no I/O, no broker state.
 */
export { TypedValue, numericValue, type Decimal, type FieldValue, type FieldTable, type MessageProperties } from './types.js';
export { frameError, WireReader, decodeFieldTable } from './field-table.js';
export {
  TWO_32,
  numberTag,
  fieldTableSize,
  writeFieldTable,
  encodeFieldTable,
  shortstrLength,
  writeShortstr,
  writeLongstr,
  writeU64,
} from './field-table-writer.js';
export {
  CONTENT_HEADER_PROPERTIES_OFFSET,
  propertiesView,
  decodeProperties,
  propertiesSize,
  writeProperties,
  encodeProperties,
} from './basic-properties.js';
