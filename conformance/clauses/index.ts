// Every clause test, in catalogue order. Ids are unique (clauses.test.ts checks it).
import type { ClauseTest } from './clause.ts';
import { HEADER_OPEN_CLAUSES } from './rfc4271-header-open.ts';
import { FSM_CLAUSES } from './rfc4271-fsm.ts';
import { UPDATE_CLAUSES } from './rfc4271-update.ts';
import { RFC7606_CLAUSES } from './rfc7606.ts';
import { CAPABILITY_MP_CLAUSES } from './rfc5492-4760.ts';
import { AS4_CLAUSES } from './rfc6793.ts';
import { EXTENSION_CLAUSES } from './rfc8654-8950-8203-9234.ts';
import { COMMUNITY_CLAUSES } from './rfc1997-8092.ts';
import { ROUTE_REFRESH_CLAUSES } from './rfc2918-7313.ts';
import { ADD_PATH_CLAUSES } from './rfc7911.ts';
import { GRACEFUL_RESTART_CLAUSES } from './rfc4724.ts';
import { ROUTE_REFLECTION_CLAUSES } from './rfc4456.ts';

export const CLAUSES: readonly ClauseTest[] = [
  ...HEADER_OPEN_CLAUSES,
  ...FSM_CLAUSES,
  ...UPDATE_CLAUSES,
  ...RFC7606_CLAUSES,
  ...CAPABILITY_MP_CLAUSES,
  ...AS4_CLAUSES,
  ...EXTENSION_CLAUSES,
  ...COMMUNITY_CLAUSES,
  ...ROUTE_REFRESH_CLAUSES,
  ...ADD_PATH_CLAUSES,
  ...GRACEFUL_RESTART_CLAUSES,
  ...ROUTE_REFLECTION_CLAUSES,
];
