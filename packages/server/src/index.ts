// The HTTP API of behaviour §3, started by `keyward serve`.
export { startServer, closeOnSignals, DEFAULT_HOST, DEFAULT_PORT, type ServerOptions, type RunningServer } from './server.js';
export { DEFAULT_THROTTLE, type ThrottleOptions } from './auth.js';
export { MAX_BODY_BYTES } from './body.js';
export { parseLeakKeys, type LeakKeys } from './leak-signature.js';
export { parseTrustedProxies, type TrustedProxies } from './client-address.js';
