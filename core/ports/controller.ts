import type { Container, ContainerState } from '../domain/container.js';

/**
 * An Arvados API filter triple, e.g. `['state', '=', 'Queued']`, `['priority', '>', 0n]`,
 * `['uuid', 'in', [...]]`, `['uuid', '>', 'zzzzz-dz642-...']`, `['locked_by_uuid', '=', id]`.
 * Field names are the API's (snake_case).
 */
export type Filter = readonly [field: string, op: '=' | '!=' | '>' | '<' | '>=' | '<=' | 'in', value: FilterValue];
export type FilterValue = string | number | bigint | boolean | null | readonly (string | number | bigint)[];

export interface ListParams {
  readonly filters: readonly Filter[];
  /** e.g. ['priority desc', 'uuid']. */
  readonly order?: readonly string[];
  readonly limit?: number;
  readonly offset?: number;
  /** API field names; the default is every field the dispatcher reads. */
  readonly select?: readonly string[];
}

export interface ContainerPatch {
  readonly state?: ContainerState;
  readonly runtimeStatus?: Readonly<Record<string, unknown>>;
}

/**
 * The Arvados controller, as the dispatcher uses it (production: prod/controller over
 * HTTPS; simulation: the stub controller, in process or over HTTP).
 *
 * Contract: every method rejects with ControllerError carrying the HTTP status for errors
 * the controller reports (404 no such container, 403 not the locker, 422 not allowed in
 * this state, 503 overloaded), and TransientError for connection failures and timeouts.
 * Returned containers are parsed and validated; priorities are exact bigints.
 */
export interface ControllerApi {
  /** The UUID of the dispatcher's own token (`api_client_authorizations/current`). */
  currentAuthorizationUuid(): Promise<string>;
  /** One page of containers. Callers page with `uuid >` keysets or offsets. */
  listContainers(params: ListParams): Promise<readonly Container[]>;
  /** One container; `select` as in ListParams (e.g. ['mounts'] plus the defaults). */
  getContainer(uuid: string, select?: readonly string[]): Promise<Container>;
  /** Queued with priority > 0 → Locked by us (lock_count + 1). 422 otherwise. */
  lock(uuid: string): Promise<Container>;
  /** Locked by us → Queued (or Cancelled once lock_count reaches MaxDispatchAttempts). */
  unlock(uuid: string): Promise<Container>;
  /** Update state and/or runtime_status (used to cancel with an error message). */
  update(uuid: string, patch: ContainerPatch): Promise<Container>;
  /** Time (ms since the epoch) of the last 503 this client saw, or 0 for never. */
  last503(): number;
}
