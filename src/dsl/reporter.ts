import { isTemplate, templates } from '../template/index.js';
import { didYouMean, formatPath, type Path } from './raw.js';
import type { Diagnostic, DiagnosticCode, Severity, SourcePosition } from './types.js';

/** Line:column of a raw-document path (SourceMap, or the plain reader's positions). */
export interface PathPositions {
  position(path: Path): SourcePosition;
}

/** Where normalisers send problems. Paths are raw-document paths; positions are looked up. */
export interface Reporter {
  error(code: DiagnosticCode, path: Path, message: string): void;
  warning(code: DiagnosticCode, path: Path, message: string): void;
  /** Checks the Jinja syntax of every string inside `value` (map keys included). */
  templates(value: unknown, path: Path): void;
  /**
   * Reads a `when`: a template, a bare expression (checked as `{{ expr }}`) or a YAML boolean.
   * Returns undefined when absent or invalid (after reporting).
   */
  condition(value: unknown, path: Path): string | boolean | undefined;
}

function templateError(source: string): string | undefined {
  return templates().syntaxError(source);
}

/** Collects every diagnostic of one parse (STYLE.md 9: report every problem at once). */
export class DiagnosticCollector implements Reporter {
  private readonly items: Diagnostic[] = [];

  /** `strict`: every warning is reported as an error. */
  constructor(
    private readonly source?: PathPositions,
    private readonly strict = false,
  ) {}

  private position(path: Path): SourcePosition {
    return this.source ? this.source.position(path) : { line: 0, column: 0 };
  }

  add(code: DiagnosticCode, severity: Severity, path: Path, message: string, at?: SourcePosition): void {
    const { line, column } = at ?? this.position(path);
    const level = this.strict ? 'error' : severity;
    this.items.push({ code, message, path: formatPath(path), line, column, severity: level });
  }

  error(code: DiagnosticCode, path: Path, message: string): void {
    this.add(code, 'error', path, message);
  }

  warning(code: DiagnosticCode, path: Path, message: string): void {
    this.add(code, 'warning', path, message);
  }

  /** A filter the engine lacks fails only when the template renders: said at validation. */
  private filters(source: string, path: Path): void {
    for (const name of templates().unknownFilters(source) ?? []) {
      this.warning(
        'UNKNOWN_FILTER',
        path,
        `unknown filter '${name}'${didYouMean(name, templates().filterNames())}: the template fails when it renders`,
      );
    }
  }

  templates(value: unknown, path: Path): void {
    if (typeof value === 'string') {
      if (!isTemplate(value)) return;
      const problem = templateError(value);
      if (problem !== undefined) this.error('TEMPLATE_SYNTAX', path, `template ${problem}`);
      else this.filters(value, path);
      return;
    }
    if (Array.isArray(value)) {
      value.forEach((item, i) => this.templates(item, [...path, i]));
      return;
    }
    if (value !== null && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) {
        const problem = isTemplate(key) ? templateError(key) : undefined;
        if (problem !== undefined) this.error('TEMPLATE_SYNTAX', [...path, key], `template key ${problem}`);
        this.templates(item, [...path, key]);
      }
    }
  }

  condition(value: unknown, path: Path): string | boolean | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value === 'boolean') return value;
    if (typeof value !== 'string') {
      this.error('INVALID_TYPE', path, '`when` must be a template string or a boolean');
      return undefined;
    }
    if (value.trim() === '') {
      this.error('INVALID_TYPE', path, '`when` is empty');
      return undefined;
    }
    const source = isTemplate(value) ? value : `{{ ${value} }}`;
    const problem = templateError(source);
    if (problem !== undefined) this.error('TEMPLATE_SYNTAX', path, `condition ${problem}`);
    else this.filters(source, path);
    return value;
  }

  /** All diagnostics, in source order (stable for equal positions). */
  list(): Diagnostic[] {
    return [...this.items].sort((a, b) => a.line - b.line || a.column - b.column);
  }

  hasErrors(): boolean {
    return this.items.some((d) => d.severity === 'error');
  }
}

/** A reporter that drops everything: used to re-normalise a tool already checked elsewhere. */
export const SILENT: Reporter = {
  error: () => undefined,
  warning: () => undefined,
  templates: () => undefined,
  condition: (value) => (typeof value === 'string' || typeof value === 'boolean' ? value : undefined),
};
