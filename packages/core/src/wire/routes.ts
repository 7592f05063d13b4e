// Every route of the HTTP API, named once: the server's route table matches
// these paths and the remote adapter fills them in, so a path is written in
// one place (behaviour §3; packages/server/README.md has a curl example for
// each). A `:name` segment is a parameter.

export const ROUTES = {
  keys: '/api/v1/api-keys',
  verify: '/api/v1/api-keys/verify',
  revokeKeys: '/api/v1/api-keys/revoke',
  leaked: '/api/v1/api-keys/leaked',
  deleteMine: '/api/v1/api-keys/delete-mine',
  usage: '/api/v1/api-keys/usage',
  config: '/api/v1/api-keys/configs/:tenantId',
  key: '/api/v1/api-keys/:id',
  revokeKey: '/api/v1/api-keys/:id/revoke',
  rotateKey: '/api/v1/api-keys/:id/rotate',
  users: '/api/v1/users',
  me: '/api/v1/users/me',
  user: '/api/v1/users/:name',
  audits: '/api/v1/audits',
  health: '/api/v1/health',
  live: '/api/v1/health/live',
} as const;

export type RouteName = keyof typeof ROUTES;

/** Where every route lives. */
export const API_ROOT = '/api/v1/';

/** The parameter names of a path pattern: '/a/:id/b' → 'id'. */
type ParamsIn<P extends string> = P extends `${string}:${infer Name}/${infer Rest}` ? Name | ParamsIn<`/${Rest}`> : P extends `${string}:${infer Name}` ? Name : never;

/** The values a route's parameters take. */
export type RouteParams<R extends RouteName> = Record<ParamsIn<(typeof ROUTES)[R]>, string>;

/** A route's path with its parameters filled in, each encoded as one path segment. */
export function pathOf<R extends RouteName>(route: R, ...[params]: ParamsIn<(typeof ROUTES)[R]> extends never ? [] : [RouteParams<R>]): string {
  const values = (params ?? {}) as Record<string, string>;
  return ROUTES[route].replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(values[name]));
}
