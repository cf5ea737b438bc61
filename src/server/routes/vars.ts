import type { FastifyInstance } from 'fastify';
import { NotFoundError, isPlainObject, wire as model } from '../../shared/index.js';
import type { JsonValue } from '../../shared/index.js';
import { VAR_TYPES } from '../../store/index.js';
import type { VarInput, VarRecord, VarType } from '../../store/index.js';
import type { RouteContext } from './context.js';
import { checkId, idString } from './schemas.js';

/**
 * Execution variables (`noetl.transient`, contract 4.1). POST takes the contract's list form
 * `{variables: [{var_name, var_value, var_type?, source_step?}]}` or NoETL Python's map form
 * `{variables: {name: value}, var_type?, source_step?}`.
 */

interface ListVar {
  readonly var_name: string;
  readonly var_value: JsonValue;
  readonly var_type?: VarType;
  readonly source_step?: string;
}
interface SetBody {
  readonly variables: ListVar[] | Record<string, JsonValue>;
  readonly var_type?: VarType;
  readonly source_step?: string;
}
interface ExecParams {
  readonly execution_id: string;
}
interface VarParams extends ExecParams {
  readonly var_name: string;
}

const tags = ['vars'];
const varType = { type: 'string', enum: [...VAR_TYPES] } as const;
const varName = { type: 'string', minLength: 1, maxLength: 256 } as const;
const execParams = {
  type: 'object',
  required: ['execution_id'],
  properties: { execution_id: idString },
} as const;
const varParams = {
  type: 'object',
  required: ['execution_id', 'var_name'],
  properties: { execution_id: idString, var_name: varName },
} as const;

function wire(v: VarRecord): model.VarView {
  return {
    execution_id: v.executionId,
    var_name: v.name,
    var_type: v.type,
    var_value: v.value,
    source_step: v.sourceStep,
    created_at: v.createdAt,
    accessed_at: v.accessedAt,
    access_count: v.accessCount,
  };
}

function inputsOf(body: SetBody): VarInput[] {
  const extra = (type: VarType | undefined, step: string | undefined) => ({
    ...(type === undefined ? {} : { type }),
    ...(step === undefined ? {} : { sourceStep: step }),
  });
  if (Array.isArray(body.variables)) {
    return body.variables.map((v) => ({
      name: v.var_name,
      value: v.var_value,
      ...extra(v.var_type ?? body.var_type, v.source_step ?? body.source_step),
    }));
  }
  const map = isPlainObject(body.variables) ? body.variables : {};
  return Object.entries(map).map(([name, value]) => ({
    name,
    value,
    ...extra(body.var_type, body.source_step),
  }));
}

export function registerVarRoutes(app: FastifyInstance, ctx: RouteContext): void {
  const { store } = ctx;

  app.get<{ Params: ExecParams }>(
    '/api/vars/:execution_id',
    {
      schema: {
        tags,
        summary: 'Variables of an execution',
        params: execParams,
        response: { 200: model.VarList },
      },
    },
    async (request) => {
      const rows = await store.vars.list(checkId(request.params.execution_id, 'execution_id'));
      return rows.map(wire);
    },
  );

  app.post<{ Params: ExecParams; Body: SetBody }>(
    '/api/vars/:execution_id',
    {
      schema: {
        tags,
        summary: 'Set (upsert) variables of an execution',
        params: execParams,
        response: { 200: model.VarCount },
        body: {
          type: 'object',
          required: ['variables'],
          properties: {
            variables: {
              anyOf: [
                {
                  type: 'array',
                  maxItems: 10000,
                  items: {
                    type: 'object',
                    required: ['var_name', 'var_value'],
                    properties: {
                      var_name: varName,
                      var_value: {},
                      var_type: varType,
                      source_step: { type: 'string', maxLength: 256 },
                    },
                  },
                },
                { type: 'object', maxProperties: 10000, propertyNames: varName },
              ],
            },
            var_type: varType,
            source_step: { type: 'string', maxLength: 256 },
          },
        },
      },
    },
    async (request) => {
      const executionId = checkId(request.params.execution_id, 'execution_id');
      const count = await store.vars.set(executionId, inputsOf(request.body));
      return { status: 'ok', execution_id: executionId, count };
    },
  );

  app.delete<{ Params: ExecParams }>(
    '/api/vars/:execution_id',
    {
      schema: {
        tags,
        summary: 'Delete every variable of an execution',
        params: execParams,
        response: { 200: model.VarCount },
      },
    },
    async (request) => {
      const executionId = checkId(request.params.execution_id, 'execution_id');
      const count = await store.vars.clear(executionId);
      return { status: 'cleaned', execution_id: executionId, count };
    },
  );

  app.get<{ Params: VarParams }>(
    '/api/vars/:execution_id/:var_name',
    {
      schema: {
        tags,
        summary: 'One variable (counts the access)',
        params: varParams,
        response: { 200: model.VarView },
      },
    },
    async (request) => {
      const executionId = checkId(request.params.execution_id, 'execution_id');
      const v = await store.vars.get(executionId, request.params.var_name);
      if (!v) throw new NotFoundError(`no variable '${request.params.var_name}' in execution ${executionId}`);
      return wire(v);
    },
  );

  app.delete<{ Params: VarParams }>(
    '/api/vars/:execution_id/:var_name',
    {
      schema: {
        tags,
        summary: 'Delete one variable',
        params: varParams,
        response: { 200: model.VarDeleted },
      },
    },
    async (request) => {
      const executionId = checkId(request.params.execution_id, 'execution_id');
      const { var_name: name } = request.params;
      if (!(await store.vars.delete(executionId, name))) {
        throw new NotFoundError(`no variable '${name}' in execution ${executionId}`);
      }
      return { execution_id: executionId, var_name: name, status: 'deleted' };
    },
  );
}
