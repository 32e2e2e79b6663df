export { discoverFiles, hashFile, noFilesMatched } from './discover.js';
export type { DiscoveredFile, DiscoverOptions } from './discover.js';
