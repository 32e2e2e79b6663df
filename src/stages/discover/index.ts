export { discoverFiles, hashFile } from './discover.js';
export type { DiscoveredFile, DiscoverOptions } from './discover.js';
