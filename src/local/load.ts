import { readFile } from 'node:fs/promises';
import { parsePlaybook, type Diagnostic, type ParseOptions, type Playbook } from '../dsl/index.js';
import { NoetlError } from '../shared/index.js';

/** Reads and parses a playbook file; an invalid one throws PLAYBOOK_INVALID with all diagnostics. */
export async function loadPlaybookFile(
  file: string,
  options: Omit<ParseOptions, 'file'> = {},
): Promise<{ playbook: Playbook; diagnostics: readonly Diagnostic[] }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NoetlError('FILE_NOT_FOUND', `playbook file not found: ${file}`);
    if (code === 'EISDIR')
      throw new NoetlError('FILE_NOT_FOUND', `${file} is a directory, not a playbook file`);
    throw new NoetlError('FILE_NOT_FOUND', `cannot read ${file}: ${(err as Error).message}`);
  }
  const result = parsePlaybook(text, { ...options, file });
  if (!result.playbook) {
    const errors = result.diagnostics.filter((d) => d.severity === 'error');
    const first = errors[0];
    const where = first ? `${file}:${first.line}:${first.column}: ` : `${file}: `;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more; run 'noetl validate ${file}')` : '';
    throw new NoetlError(
      first?.code === 'YAML_SYNTAX' || first?.code === 'PLAYBOOK_TOO_LARGE' ? first.code : 'PLAYBOOK_INVALID',
      `${where}${first?.code ?? 'PLAYBOOK_INVALID'} ${first?.message ?? 'invalid playbook'}${more}`,
      { details: { diagnostics: result.diagnostics } },
    );
  }
  return { playbook: result.playbook, diagnostics: result.diagnostics };
}
