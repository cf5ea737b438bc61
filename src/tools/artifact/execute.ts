import { isResultName, parseResultRef, RESULT_MAX_BYTES, storedJson } from '../../shared/index.js';
import { ToolError } from '../../shared/index.js';
import type { ToolContext, ToolOutput } from '../types.js';
import { readArtifactConfig } from './config.js';

/**
 * `put` stores `data` in the result store and gives back where (`uri`, a `noetl://` reference);
 * `get` gives back the value a reference names, as NoETL's worker does (the data itself).
 */
export async function executeArtifact(
  ctx: ToolContext,
  raw: Readonly<Record<string, unknown>>,
): Promise<ToolOutput> {
  const config = readArtifactConfig(raw);
  const results = ctx.services.results;
  if (!results) {
    throw new ToolError('artifact: no result store here (it needs noetl run, a worker or the server)', {
      code: 'TOOL_UNSUPPORTED',
    });
  }
  if (config.action === 'get') {
    if (!parseResultRef(config.ref)) {
      throw new ToolError(
        `artifact: cannot read ${config.ref.slice(0, 200)}: only noetl://execution/<id>/result/<name>/<id> references (what put returns) are kept here`,
        { code: 'TOOL_UNSUPPORTED', details: { uri: config.ref.slice(0, 200) } },
      );
    }
    return { data: await results.get(config.ref, ctx.signal) };
  }
  const name = config.name ?? ctx.step;
  if (!isResultName(name)) {
    throw new ToolError(
      `artifact: name '${name.slice(0, 80)}' is not valid: use letters, digits, _ . - and / between parts`,
    );
  }
  const bytes = Buffer.byteLength(storedJson(config.data), 'utf8');
  if (bytes > RESULT_MAX_BYTES) {
    throw new ToolError(
      `artifact: the value is ${bytes} bytes; the result store keeps at most ${RESULT_MAX_BYTES}`,
      {
        code: 'PAYLOAD_TOO_LARGE',
        details: { bytes, limit: RESULT_MAX_BYTES },
      },
    );
  }
  const stored = await results.put(
    { executionId: ctx.executionId, name, data: config.data, sourceStep: ctx.step },
    ctx.signal,
  );
  return {
    data: {
      status: 'success',
      uri: stored.ref,
      ref: stored.ref,
      result_ref: {
        kind: 'result_ref',
        ref: stored.ref,
        scope: 'execution',
        meta: { bytes: stored.bytes, media_type: 'application/json', sha256: stored.sha256 },
      },
      size_bytes: stored.bytes,
      sha256: stored.sha256,
      compressed: false,
    },
  };
}
