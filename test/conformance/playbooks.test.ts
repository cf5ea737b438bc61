/**
 * The project's own conformance playbooks (test/conformance/playbooks/), run with `noetl run`'s
 * runner; expected outcomes beside each file (see harness.ts). Needs only the repository and
 * the machine's PostgreSQL.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parsePlaybook } from '../../src/dsl/index.js';
import { closeToolResources } from '../../src/tools/index.js';
import { startFakeApi, type FakeApi } from '../helpers/fake-api.js';
import { createDatabase, dropDatabase } from '../helpers/pg-scratch.js';
import {
  checkOutcome,
  conformanceApi,
  loadCases,
  payloadFor,
  runLocalCase,
  writeCredentialsFile,
} from './harness.js';

const work = mkdtempSync(join(tmpdir(), 'noetl-own-conf-'));
let api: FakeApi;
let database = '';
let credentialsFile = '';

beforeAll(async () => {
  api = await startFakeApi(conformanceApi());
  database = await createDatabase('noetl_own_conf');
  credentialsFile = writeCredentialsFile(work, database);
});

afterAll(async () => {
  await api?.close();
  await closeToolResources();
  if (database) await dropDatabase(database);
  rmSync(work, { recursive: true, force: true });
});

describe('own conformance playbooks: noetl run', () => {
  for (const c of loadCases()) {
    c.runs.forEach((run, i) => {
      const label = `${c.name}${c.runs.length > 1 ? ` #${i + 1}` : ''}: ${c.about}`;
      it(label, async () => {
        const outcome = await runLocalCase(c.file, payloadFor(run, api.url, work), {
          runDir: join(work, 'runs'),
          credentialsFile,
        });
        checkOutcome(label, outcome, run);
      });
    });
  }
});

describe('own conformance playbooks: validation warnings', () => {
  for (const c of loadCases()) {
    it(`${c.name}: ${c.warnings.length > 0 ? c.warnings.join(', ') : 'none'}`, () => {
      const { diagnostics } = parsePlaybook(readFileSync(c.file, 'utf8'), { file: c.file });
      const warnings = diagnostics
        .filter((d) => d.severity === 'warning')
        .map((d) => `${d.code}@${d.line}:${d.column}`);
      expect(warnings).toEqual(c.warnings);
    });
  }
});
