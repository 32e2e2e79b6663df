export { validateRecord, compileSchemaFile } from './validate.js';
export type { ValidateRules } from './validate.js';
export { coerce } from './coerce.js';
