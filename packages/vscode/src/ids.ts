// Every id the manifest (package.json) and the code share. The contribution
// test checks this table, the manifest and what activate() registers agree.

export const COMMANDS = {
  generateKey: 'keyward.generateKey',
  revokeKey: 'keyward.revokeKey',
  deleteKey: 'keyward.deleteKey',
  renameKey: 'keyward.renameKey',
  copyKeyId: 'keyward.copyKeyId',
  refresh: 'keyward.refresh',
  showKeys: 'keyward.showKeys',
  signIn: 'keyward.signIn',
  signOut: 'keyward.signOut',
  createStore: 'keyward.createStore',
  loadMoreKeys: 'keyward.loadMoreKeys',
  replaceToken: 'keyward.replaceToken',
  rotateKey: 'keyward.rotateKey',
} as const;

export const VIEW_CONTAINER = 'keyward';
export const KEYS_VIEW = 'keyward.keys';

/** Context keys the manifest's `when` clauses read. */
export const CONTEXT = {
  connected: 'keyward.connected',
  needsSignIn: 'keyward.needsSignIn',
  signedIn: 'keyward.signedIn',
  noStore: 'keyward.noStore',
} as const;

export const SETTINGS_SECTION = 'keyward';
export const DIAGNOSTIC_SOURCE = 'Keyward';
