import { pgliteBackend } from '../helpers/server-app.js';
import { serverApiSuite } from './api.suite.js';

serverApiSuite('PGlite', pgliteBackend);
