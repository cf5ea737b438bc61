import { STEP_ONLY_KEYS } from './known-keys.js';
import { KNOWN_TOOL_KINDS, OUTPUT_STORE_KINDS } from './types.js';

type Schema = Record<string, unknown>;

const ref = (name: string): Schema => ({ $ref: `#/definitions/${name}` });
const str = (description: string): Schema => ({ type: 'string', description });
const openMap = (description: string): Schema => ({
  type: 'object',
  additionalProperties: true,
  description,
});

const condition: Schema = {
  type: ['string', 'boolean'],
  description:
    'Condition: a Jinja template (`"{{ x > 1 }}"`), a bare expression (`x > 1`) or a YAML boolean. ' +
    "False when it renders to one of '', false, 0, no, none, null, off, {}, [] (case-insensitive).",
};

const setMap: Schema = openMap(
  'Variables to write: `scope.key: template`. Scopes `ctx.`, `iter.`, `step.` are stripped; other keys are written as they are.',
);

const policyThen: Schema = {
  type: 'object',
  description: 'The action of a rule.',
  properties: {
    do: { enum: ['continue', 'retry', 'jump', 'break', 'fail'], default: 'continue' },
    attempts: { type: ['integer', 'string'], description: 'retry: total attempts (default 3).' },
    backoff: { enum: ['none', 'fixed', 'linear', 'exponential'] },
    delay: { type: ['number', 'string'], description: 'retry: seconds (default 1).' },
    to: str('jump: a task label, or previous.'),
    set: setMap,
    target: str('Legacy spelling of `to`.'),
    set_vars: openMap('Legacy spelling of `set`.'),
    allow: { type: 'boolean', description: 'Admission rules: allow or not.' },
  },
  additionalProperties: false,
};

const definitions: Record<string, Schema> = {
  metadata: {
    type: 'object',
    required: ['name'],
    description: 'Identity of the playbook; extra keys are kept.',
    properties: {
      name: str('Playbook name (required).'),
      path: str('Catalog path; defaults to `name`.'),
      description: str('What the playbook does.'),
      version: { type: ['string', 'number'], description: 'Free-form version label.' },
      labels: openMap('Labels stored with the catalog entry.'),
    },
    additionalProperties: true,
  },
  keychainEntry: {
    type: 'object',
    required: ['name'],
    description: 'A credential or secret the tools read as `{{ keychain.<name>.<field> }}`.',
    properties: {
      name: str('Alias used in templates: `keychain.<name>`.'),
      kind: {
        type: 'string',
        description: 'Entry kind.',
        examples: [
          'secrets',
          'secret_manager',
          'credential',
          'postgres_credential',
          'bearer',
          'static',
          'oauth2',
        ],
      },
      provider: { type: 'string', examples: ['gcp', 'aws', 'azure', 'vault', 'k8s'] },
      auth: str('Credential alias used to talk to the provider.'),
      map: openMap('`output_key: secret path template`.'),
      scope: { type: 'string', examples: ['local', 'global', 'shared'] },
      credential: str('Registered credential name.'),
      token: str('Token template (`kind: bearer`).'),
      auto_renew: { type: 'boolean' },
    },
    additionalProperties: true,
  },
  workbookEntry: {
    type: 'object',
    required: ['name', 'tool'],
    description:
      'A reusable tool, called from a step with `tool: {kind: workbook, name: <name>, input: {...}}`.',
    properties: {
      name: str('Name steps refer to.'),
      desc: str('Description.'),
      tool: ref('toolMap'),
      assert: openMap('Declared `expects` (inputs) and `returns` (result keys), for readers and tests.'),
      sink: { description: 'Where NoETL writes the result (not read here).' },
    },
    additionalProperties: false,
  },
  executor: {
    type: 'object',
    description: 'Runtime requirements, read by the local runtime.',
    properties: {
      profile: { enum: ['local', 'distributed', 'auto'], default: 'auto' },
      version: { type: 'string', examples: ['noetl-runtime/1'] },
      requires: {
        type: 'object',
        properties: {
          tools: { type: 'array', items: { type: 'string' }, description: 'Tool kinds the playbook needs.' },
          features: { type: 'array', items: { type: 'string' } },
        },
        additionalProperties: false,
      },
      spec: {
        type: 'object',
        properties: {
          entry_step: str('Entry step when there is no `start` step.'),
          final_step: str('Step run after the workflow has quiesced (local runtime).'),
          no_next_is_error: { type: 'boolean', default: false },
          policy: openMap('`defaults`, `results`, `limits` (advisory).'),
        },
        additionalProperties: false,
      },
    },
    additionalProperties: false,
  },
  toolKind: {
    description: 'Tool kind. Known kinds are listed; a runtime may register more.',
    anyOf: [{ enum: [...KNOWN_TOOL_KINDS].sort() }, { type: 'string' }],
  },
  toolMap: {
    type: 'object',
    required: ['kind'],
    description:
      'One tool. Keys other than `name`, `kind`, `set`, `spec` are its config; keys under `spec` (except `policy`) are read as config too.',
    properties: {
      kind: ref('toolKind'),
      name: str('Task label inside a pipeline; the entry name for `kind: workbook`.'),
      input: openMap('Values bound for the tool (python: globals and `input_data`).'),
      auth: { type: ['string', 'object'], description: 'Credential alias (or a legacy map of credentials).' },
      spec: ref('toolSpec'),
      set: setMap,
      eval: { type: 'array', description: 'Legacy flow-control rules; read as `spec.policy.rules`.' },
      ...Object.fromEntries(
        [...STEP_ONLY_KEYS].map((k) => [
          k,
          { not: {}, description: `\`${k}\` is a step key: indent it like \`tool:\`, not under it.` },
        ]),
      ),
    },
    additionalProperties: true,
  },
  toolSpec: {
    type: 'object',
    description: 'Tool knobs: `policy` rules, `timeout`; other keys are read as tool config.',
    properties: { policy: ref('policy'), timeout: { type: ['number', 'string'] } },
    additionalProperties: true,
  },
  pipelineItem: {
    description: 'A pipeline task: `{name: label, kind: ...}` or `{label: {kind: ...}}`.',
    anyOf: [
      ref('toolMap'),
      {
        type: 'object',
        minProperties: 1,
        maxProperties: 1,
        not: { required: ['kind'] },
        additionalProperties: ref('toolMap'),
      },
    ],
  },
  tool: {
    description: 'What the step runs: one tool (a map) or a pipeline (a list of labelled tasks).',
    anyOf: [ref('toolMap'), { type: 'array', minItems: 1, items: ref('pipelineItem') }],
  },
  policy: {
    type: 'object',
    description: 'Task policy: the first matching rule decides what happens after the tool ran.',
    properties: {
      rules: { type: 'array', items: ref('policyRule') },
      mode: { type: 'string' },
      on_unmatched: { type: 'string' },
      before: { type: 'array', description: 'Hooks (placeholder, not run).' },
      after: { type: 'array', description: 'Hooks (placeholder, not run).' },
      finally: { type: 'array', description: 'Hooks (placeholder, not run).' },
    },
    additionalProperties: false,
  },
  policyThen,
  policyRule: {
    description: '`{when, then}`, `{when, do, ...}`, `{else: {then}}` or `{else: {do, ...}}`.',
    anyOf: [
      {
        type: 'object',
        anyOf: [{ required: ['when'] }, { required: ['expr'] }],
        properties: {
          when: condition,
          expr: { ...condition, description: 'Legacy spelling of `when`.' },
          then: ref('policyThen'),
          // the short form `{when, do, ...}` carries the action's keys itself
          ...(policyThen.properties as Schema),
        },
        additionalProperties: false,
      },
      {
        type: 'object',
        required: ['else'],
        properties: {
          else: {
            anyOf: [
              { type: 'null' },
              { type: 'object', properties: { then: ref('policyThen') }, additionalProperties: false },
              ref('policyThen'),
            ],
          },
          then: ref('policyThen'),
        },
        additionalProperties: false,
      },
    ],
  },
  arc: {
    type: 'object',
    required: ['step'],
    description: 'An outgoing arc.',
    properties: {
      step: str('Target step.'),
      when: condition,
      set: setMap,
      args: openMap('Legacy values for the target (like `set`).'),
      with: openMap('Legacy spelling of `args`.'),
      data: openMap('Legacy spelling of `args`.'),
      spec: openMap('Arc spec (placeholder).'),
    },
    additionalProperties: false,
  },
  router: {
    type: 'object',
    required: ['arcs'],
    description: 'Canonical router.',
    properties: {
      spec: {
        type: 'object',
        properties: {
          mode: {
            enum: ['exclusive', 'inclusive'],
            default: 'exclusive',
            description:
              'exclusive: the first arc whose `when` is true fires; inclusive: every true arc fires.',
          },
          on_no_match: { enum: ['complete', 'quiet'], description: 'NoETL: when no arc matches.' },
          policy: openMap('Router policy (placeholder).'),
        },
        additionalProperties: false,
      },
      arcs: { type: 'array', items: { anyOf: [{ type: 'string' }, ref('arc')] } },
    },
    additionalProperties: false,
  },
  legacyTarget: {
    type: 'object',
    description: 'Legacy target: `{step, when, args}`, `{when, then: [...]}`, `{else: [...]}`.',
    properties: { step: { type: 'string' }, when: condition, args: { type: 'object' } },
    additionalProperties: true,
  },
  next: {
    description:
      'Where to go after the step completes: a step name, a list of names (all fire), a legacy list of `{step, when}`, or `{spec: {mode}, arcs: [...]}`.',
    anyOf: [
      { type: 'string' },
      { type: 'array', items: { anyOf: [{ type: 'string' }, ref('legacyTarget')] } },
      ref('router'),
    ],
  },
  loop: {
    type: 'object',
    required: ['iterator'],
    description: 'Run the step once per item.',
    properties: {
      in: { description: 'Collection: a template or a literal list (required unless mode is cursor).' },
      iterator: {
        type: 'string',
        pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
        description: 'Variable holding the item.',
      },
      mode: {
        enum: ['sequential', 'parallel', 'cursor', 'async'],
        description: 'Legacy shorthand for spec.mode.',
      },
      max_in_flight: { type: ['integer', 'string'], description: 'Legacy shorthand for spec.max_in_flight.' },
      spec: {
        type: 'object',
        properties: {
          mode: { enum: ['sequential', 'parallel', 'cursor'], default: 'sequential' },
          max_in_flight: { type: ['integer', 'string'], description: 'Parallel limit (number or template).' },
          policy: openMap('Placement hint, e.g. `{exec: local}`.'),
          frame: openMap('Cursor frame sizing: max_rows, row_concurrency...'),
        },
        additionalProperties: false,
      },
      cursor: {
        type: 'object',
        required: ['claim'],
        properties: {
          kind: { type: 'string', default: 'postgres' },
          auth: { type: 'string' },
          claim: { type: 'string' },
        },
        additionalProperties: true,
      },
    },
    additionalProperties: false,
  },
  step: {
    type: 'object',
    required: ['step'],
    description: 'A workflow step.',
    properties: {
      step: str('Unique step name. `start` is the entry.'),
      desc: str('Description.'),
      tool: ref('tool'),
      next: ref('next'),
      when: { ...condition, description: 'Enable guard: when false the step is skipped.' },
      loop: ref('loop'),
      set: { ...setMap, description: 'Variables written after the step completes (can read `output`).' },
      input: openMap('Step input.'),
      args: openMap('Legacy step input.'),
      vars: openMap('Legacy local-runtime variable extraction.'),
      output: {
        type: 'object',
        description:
          "Where the step's result is kept: past `inline_max_bytes` (default 65536), or always with an explicit `store.kind`, it goes to the result store and the step's value becomes the selected fields plus `_ref`, `_store`, `_size_bytes`, `_preview`.",
        properties: {
          store: {
            type: ['object', 'string'],
            properties: { kind: { enum: [...OUTPUT_STORE_KINDS, 'object'], default: 'auto' } },
            additionalProperties: true,
          },
          output_select: {
            type: 'array',
            items: { type: 'string' },
            description: 'Fields kept beside the reference (dotted paths).',
          },
          select: {
            type: 'array',
            items: {
              type: ['string', 'object'],
              properties: { path: { type: 'string' }, as: { type: 'string' } },
            },
          },
          inline_max_bytes: { type: 'integer', minimum: 0, default: 65536 },
          preview_max_bytes: { type: 'integer', minimum: 0, default: 1024 },
        },
        additionalProperties: true,
      },
      spec: {
        type: 'object',
        properties: { next_mode: { enum: ['exclusive', 'inclusive'] } },
        additionalProperties: true,
      },
      case: { type: 'array', description: 'Legacy: converted to `next` arcs; write `next` instead.' },
    },
    additionalProperties: false,
  },
};

/** JSON Schema (draft-07) of the playbook format, for editors (yaml-language-server). */
export function playbookJsonSchema(): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'NoETL playbook (noetl.io/v2)',
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'workflow'],
    properties: {
      apiVersion: { const: 'noetl.io/v2', description: 'Always noetl.io/v2.' },
      kind: { const: 'Playbook' },
      metadata: ref('metadata'),
      workload: {
        type: ['object', 'null'],
        additionalProperties: true,
        description: 'Default inputs; the request payload overrides top-level keys.',
      },
      keychain: { type: 'array', items: ref('keychainEntry'), description: 'Credentials and secrets.' },
      workbook: { type: 'array', items: ref('workbookEntry'), description: 'Reusable tools.' },
      workflow: {
        type: 'array',
        minItems: 1,
        items: ref('step'),
        description: 'The steps; one is named `start`.',
      },
      executor: ref('executor'),
      vars: openMap('Legacy root variables (unused).'),
    },
    additionalProperties: false,
    definitions: structuredClone(definitions),
  };
}
