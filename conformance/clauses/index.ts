// Every clause test, in catalogue order. Ids are unique (clauses.test.ts checks it).
import type { ClauseTest } from './clause.ts';
import { HEADER_OPEN_CLAUSES } from './rfc4271-header-open.ts';
import { UPDATE_CLAUSES } from './rfc4271-update.ts';
import { RFC7606_CLAUSES } from './rfc7606.ts';

export const CLAUSES: readonly ClauseTest[] = [...HEADER_OPEN_CLAUSES, ...UPDATE_CLAUSES, ...RFC7606_CLAUSES];
