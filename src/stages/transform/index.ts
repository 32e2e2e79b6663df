export { loadTransform, applyTransform } from './transform.js';
export type { TransformFn, TransformContext, Transformed } from './transform.js';
