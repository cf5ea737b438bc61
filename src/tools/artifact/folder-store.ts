import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import {
  NotFoundError,
  SnowflakeIdGenerator,
  systemClock,
  ToolError,
  type IdGenerator,
} from '../../shared/index.js';
import {
  formatResultRef,
  isResultName,
  parseResultRef,
  RESULT_MAX_BYTES,
  storedJson,
} from '../../shared/index.js';
import type { ResultStoreService, StoredResult } from '../types.js';

/**
 * The result store of `noetl run`: a folder (default `$NOETL_HOME/results`) holding
 * `<execution_id>/<name>/<result_id>.json`, the same references the control plane gives, so a
 * playbook reads back what it stored the same way in every mode.
 */
export class FolderResultStore implements ResultStoreService {
  constructor(
    readonly root: string,
    private readonly ids: IdGenerator = new SnowflakeIdGenerator(systemClock),
  ) {}

  private file(executionId: string, name: string, resultId: string): string {
    return join(this.root, executionId, ...name.split('/'), `${resultId}.json`);
  }

  async put(request: { executionId: string; name: string; data: unknown }): Promise<StoredResult> {
    if (!isResultName(request.name) || !/^\d+$/.test(request.executionId)) {
      throw new ToolError(`artifact: cannot store under '${request.name.slice(0, 80)}'`);
    }
    const text = storedJson(request.data);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > RESULT_MAX_BYTES) {
      throw new ToolError(`the value is ${bytes} bytes; the result store keeps at most ${RESULT_MAX_BYTES}`, {
        code: 'PAYLOAD_TOO_LARGE',
      });
    }
    const resultId = this.ids.next();
    const file = this.file(request.executionId, request.name, resultId);
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    // written whole or not at all: a reader never sees half a value
    await writeFile(`${file}.tmp`, text, { mode: 0o600 });
    await rename(`${file}.tmp`, file);
    return {
      ref: formatResultRef({ executionId: request.executionId, name: request.name, resultId }),
      store: 'local',
      bytes,
      sha256: createHash('sha256').update(text, 'utf8').digest('hex'),
    };
  }

  async get(ref: string): Promise<unknown> {
    const parsed = parseResultRef(ref);
    if (!parsed) throw new ToolError(`artifact: not a result reference: ${ref.slice(0, 200)}`);
    let text: string;
    try {
      text = await readFile(this.file(parsed.executionId, parsed.name, parsed.resultId), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT')
        throw new NotFoundError(`result not found: ${ref}`);
      throw err;
    }
    return JSON.parse(text) as unknown;
  }
}
