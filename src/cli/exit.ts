import type { ErrorCode } from '../shared/index.js';

/** Exit codes of the CLI (docs/cli.md). */
export const EXIT = {
  ok: 0,
  failed: 1,
  usage: 2,
  unavailable: 3,
  notFound: 4,
  conflict: 5,
  interrupted: 130,
} as const;

export function exitCodeFor(code: ErrorCode): number {
  switch (code) {
    case 'USAGE':
    case 'FILE_NOT_FOUND':
    case 'YAML_SYNTAX':
    case 'PLAYBOOK_INVALID':
    case 'PLAYBOOK_TOO_LARGE':
    case 'CONFIG_INVALID':
    case 'TEMPLATE_SYNTAX':
    case 'BAD_REQUEST':
    case 'PAYLOAD_TOO_LARGE':
    case 'UNSUPPORTED_MEDIA_TYPE':
      return EXIT.usage;
    case 'UNAVAILABLE':
    case 'UNAUTHORIZED':
    case 'FORBIDDEN':
      return EXIT.unavailable;
    case 'NOT_FOUND':
      return EXIT.notFound;
    case 'CONFLICT':
      return EXIT.conflict;
    case 'CANCELLED':
      return EXIT.interrupted;
    default:
      return EXIT.failed;
  }
}

/** A one-line hint for an error code, printed under the error. */
export function hintFor(code: ErrorCode): string | undefined {
  switch (code) {
    case 'FILE_NOT_FOUND':
      return 'check the path; `noetl run` without a file looks for ./noetl.yaml, then ./main.yaml';
    case 'PLAYBOOK_INVALID':
    case 'YAML_SYNTAX':
      return 'run `noetl validate <file>` to list every problem';
    case 'UNAVAILABLE':
      return 'is the server running? try `noetl server status`, or set --server-url / NOETL_SERVER_URL';
    case 'USAGE':
      return 'see `noetl <command> --help`';
    default:
      return undefined;
  }
}
