import { useState } from 'preact/hooks';
import { errorText, get, post } from '../api/client.js';
import type { Credential, ExecuteAnswer, Json, JsonObject, UiField, UiSchema } from '../api/types.js';
import { globMatch } from '../lib/format.js';
import { useLoad } from '../lib/hooks.js';
import { navigate } from '../lib/router.js';

type Values = Record<string, string | boolean>;

/** Initial form values: text for inputs; secrets start empty (their default stays on the server). */
function initial(fields: UiField[], prefix = ''): Values {
  const v: Values = {};
  for (const f of fields) {
    const key = prefix + f.name;
    if (f.children?.length) Object.assign(v, initial(f.children, `${key}.`));
    else if (f.kind === 'boolean') v[key] = f.default === true;
    else if (f.secret) v[key] = '';
    else if (f.kind === 'enum')
      v[key] = String(
        Math.max(
          0,
          (f.options ?? []).findIndex((o) => JSON.stringify(o) === JSON.stringify(f.default)),
        ),
      );
    else if (f.kind === 'object' || f.kind === 'array')
      v[key] = JSON.stringify(f.default ?? (f.kind === 'array' ? [] : {}), null, 2);
    else
      v[key] =
        f.default === null || f.default === undefined
          ? ''
          : typeof f.default === 'object'
            ? JSON.stringify(f.default)
            : String(f.default);
  }
  return v;
}

/** Typed workload from the form; throws with the field's name on a bad value. */
function collect(fields: UiField[], values: Values, prefix = ''): JsonObject {
  const out: JsonObject = {};
  for (const f of fields) {
    const key = prefix + f.name;
    const raw = values[key];
    if (f.children?.length) {
      out[f.name] = collect(f.children, values, `${key}.`);
      continue;
    }
    if (f.secret && raw === '') continue;
    switch (f.kind) {
      case 'boolean':
        out[f.name] = raw === true;
        break;
      case 'integer': {
        const s = String(raw).trim();
        if (!/^-?\d+$/.test(s)) throw new Error(`${key}: a whole number is expected`);
        out[f.name] = Number(s);
        break;
      }
      case 'number': {
        const n = Number(String(raw).trim());
        if (String(raw).trim() === '' || !Number.isFinite(n)) throw new Error(`${key}: a number is expected`);
        out[f.name] = n;
        break;
      }
      case 'enum':
        out[f.name] = (f.options ?? [])[Number(raw)] ?? null;
        break;
      case 'object':
      case 'array': {
        let v: Json;
        try {
          v = JSON.parse(String(raw)) as Json;
        } catch {
          throw new Error(`${key}: not valid JSON`);
        }
        if (f.kind === 'array' ? !Array.isArray(v) : typeof v !== 'object' || v === null || Array.isArray(v))
          throw new Error(`${key}: a JSON ${f.kind} is expected`);
        out[f.name] = v;
        break;
      }
      case 'null':
        out[f.name] = raw === '' ? null : String(raw);
        break;
      case 'string':
      default:
        out[f.name] = String(raw);
    }
  }
  return out;
}

function Field({
  field,
  prefix,
  values,
  set,
  credentials,
}: {
  field: UiField;
  prefix: string;
  values: Values;
  set: (k: string, v: string | boolean) => void;
  credentials: Credential[] | null;
}) {
  const key = prefix + field.name;
  const id = `f-${key.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const help = field.description ? <small class="muted">{field.description}</small> : null;
  if (field.children?.length)
    return (
      <fieldset>
        <legend>{field.name}</legend>
        {help}
        {field.children.map((c) => (
          <Field field={c} prefix={`${key}.`} values={values} set={set} credentials={credentials} />
        ))}
      </fieldset>
    );
  const label = (
    <label for={id}>
      {field.name}{' '}
      <span class="muted kind">
        {field.secret ? 'secret' : field.credential_glob ? `credential ${field.credential_glob}` : field.kind}
      </span>
    </label>
  );
  let input;
  if (field.credential_glob) {
    const glob = field.credential_glob;
    const dflt = typeof field.default === 'string' ? field.default : '';
    const matching = (credentials ?? []).filter((c) => globMatch(glob, c.name));
    input = (
      <select
        id={id}
        name={key}
        value={String(values[key] ?? '')}
        onChange={(e) => set(key, e.currentTarget.value)}
      >
        <option value={dflt}>{dflt ? `${dflt} (default)` : '— choose —'}</option>
        {matching.map((c) => (
          <option value={c.name}>
            {c.name} ({c.type})
          </option>
        ))}
      </select>
    );
  } else if (field.kind === 'boolean')
    input = (
      <input
        id={id}
        name={key}
        type="checkbox"
        checked={values[key] === true}
        onChange={(e) => set(key, e.currentTarget.checked)}
      />
    );
  else if (field.kind === 'enum')
    input = (
      <select
        id={id}
        name={key}
        value={String(values[key])}
        onChange={(e) => set(key, e.currentTarget.value)}
      >
        {(field.options ?? []).map((o, i) => (
          <option value={String(i)}>{typeof o === 'string' ? o : JSON.stringify(o)}</option>
        ))}
      </select>
    );
  else if (field.kind === 'object' || field.kind === 'array')
    input = (
      <textarea
        id={id}
        name={key}
        rows={4}
        spellcheck={false}
        value={String(values[key])}
        onInput={(e) => set(key, e.currentTarget.value)}
      />
    );
  else {
    const common = {
      id,
      name: key,
      value: String(values[key]),
      onInput: (e: { currentTarget: HTMLInputElement }) => set(key, e.currentTarget.value),
    };
    input = field.secret ? (
      <input
        {...common}
        type="password"
        autocomplete="new-password"
        placeholder="leave empty to keep the default"
      />
    ) : field.kind === 'integer' || field.kind === 'number' ? (
      <input {...common} type="number" step={field.kind === 'number' ? 'any' : '1'} />
    ) : (
      <input {...common} type="text" autocomplete="off" />
    );
  }
  return (
    <div class="field">
      {label}
      {input}
      {help}
    </div>
  );
}

/** The Run form of a catalog entry, built from its `ui_schema`; starts an execution. */
export function RunForm({
  schema,
  version,
}: {
  schema: UiSchema;
  version: number | null;
  onStarted?: (id: string) => void;
}) {
  const [values, setValues] = useState<Values>(() => initial(schema.fields));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const needsCredentials = JSON.stringify(schema.fields).includes('"credential_glob":"');
  const creds = useLoad(
    async () => (needsCredentials ? (await get<{ items: Credential[] }>('/api/credentials')).items : []),
    [needsCredentials],
  );
  const set = (k: string, v: string | boolean) => setValues((s) => ({ ...s, [k]: v }));
  return (
    <form
      class="run-form"
      onSubmit={(e) => {
        e.preventDefault();
        setError(null);
        let payload: JsonObject;
        try {
          payload = collect(schema.fields, values);
        } catch (err) {
          setError(errorText(err));
          return;
        }
        setBusy(true);
        post<ExecuteAnswer>('/api/execute', {
          path: schema.path,
          ...(version ? { version } : {}),
          payload,
        }).then(
          (r) => navigate(`/executions/${r.execution_id}`),
          (err: unknown) => {
            setBusy(false);
            setError(errorText(err));
          },
        );
      }}
    >
      <h2>Run {schema.title || schema.path}</h2>
      {schema.description_markdown ? <p class="description">{schema.description_markdown}</p> : null}
      {schema.fields.length === 0 ? <p class="muted">This playbook takes no workload.</p> : null}
      {schema.fields.map((f) => (
        <Field field={f} prefix="" values={values} set={set} credentials={creds.data} />
      ))}
      {error ? (
        <div class="error-box" role="alert">
          {error}
        </div>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        {busy ? 'Starting…' : 'Run'}
      </button>
    </form>
  );
}
