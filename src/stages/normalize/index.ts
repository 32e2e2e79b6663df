export { Normalizer } from './normalize.js';
