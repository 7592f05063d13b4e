// The wire contract: route paths and the bodies the server and the remote
// adapter exchange. Core holds it so neither side depends on the other.
export * from './routes.js';
export * from './types.js';
export * from './older-server.js';
export { pageText } from './key-texts.js';
