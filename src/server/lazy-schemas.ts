/**
 * Route schemas compiled on first use instead of at start-up.
 *
 * Every JSON route declares its request and response schemas (src/shared/wire.ts). Fastify
 * compiles all of them (ajv validators, fast-json-stringify serialisers) before it listens:
 * about 150 ms of a 1.2-1.8 s warm start of the embedded server on this machine, for routes a
 * given process may never serve. Here each compiled function is built the first time a request
 * needs it, with the same compilers and options Fastify would use, so answers are identical.
 * `compilePendingSchemas(app)` compiles what is still pending: the tests call it so that a
 * schema that cannot compile fails a test, not a first request (docs/benchmarks.md, "Embedded
 * server start-up").
 */
import AjvCompiler from '@fastify/ajv-compiler';
import SerializerSelector from '@fastify/fast-json-stringify-compiler';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';

type Compile<F> = (routeSchema: unknown) => F;
type Factory<F> = (externalSchemas: unknown, serverOptions: unknown) => Compile<F>;
type Validator = ((...args: unknown[]) => unknown) & { errors?: unknown };
type Serializer = (doc: unknown) => string;

type CompilersFactory = NonNullable<
  NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']
>;

export interface LazySchemas {
  /** For Fastify's `schemaController.compilersFactory` option. */
  readonly compilersFactory: CompilersFactory;
  /** Compiles every schema not compiled yet; returns how many were. */
  compileAll(): number;
}

export function lazySchemas(): LazySchemas {
  const pending = new Set<() => void>();
  const baseValidator = AjvCompiler() as unknown as Factory<Validator>;
  const baseSerializer = SerializerSelector() as unknown as Factory<Serializer>;

  const buildValidator: Factory<Validator> = (externalSchemas, serverOptions) => {
    const compile = baseValidator(externalSchemas, serverOptions);
    return (routeSchema) => {
      let fn: Validator | undefined;
      const force = (): Validator => {
        if (fn === undefined) {
          fn = compile(routeSchema);
          pending.delete(force);
        }
        return fn;
      };
      pending.add(force);
      // Fastify reads `errors` off the function it was given after a failed call (ajv's way).
      const validate: Validator = (...args) => {
        const inner = force();
        const result = inner(...args);
        validate.errors = inner.errors;
        return result;
      };
      return validate;
    };
  };

  const buildSerializer: Factory<Serializer> = (externalSchemas, serverOptions) => {
    const compile = baseSerializer(externalSchemas, serverOptions);
    return (routeSchema) => {
      let fn: Serializer | undefined;
      const force = (): Serializer => {
        if (fn === undefined) {
          fn = compile(routeSchema);
          pending.delete(force);
        }
        return fn;
      };
      pending.add(force);
      return (doc) => force()(doc);
    };
  };

  return {
    // the shapes Fastify calls them with; its declared types name ajv's own function types
    compilersFactory: { buildValidator, buildSerializer } as unknown as CompilersFactory,
    compileAll() {
      let n = 0;
      for (const force of [...pending]) {
        force();
        n++;
      }
      return n;
    },
  };
}

const byApp = new WeakMap<FastifyInstance, LazySchemas>();

/** Remembers the app's lazy compilers (buildApp does this). */
export function trackLazySchemas(app: FastifyInstance, lazy: LazySchemas): void {
  byApp.set(app, lazy);
}

/** Compiles every route schema of `app` not compiled yet (after `app.ready()`); returns how many. */
export function compilePendingSchemas(app: FastifyInstance): number {
  return byApp.get(app)?.compileAll() ?? 0;
}
