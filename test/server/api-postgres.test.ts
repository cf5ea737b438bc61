import { postgresBackend } from '../helpers/server-app.js';
import { serverApiSuite } from './api.suite.js';

/** PostgreSQL of the development and CI machines, a schema per file: unreachable = failed, never skipped. */
serverApiSuite('PostgreSQL', postgresBackend);
