/**
 * `engines` is true to what the dependencies need: every package in package-lock.json that names
 * `engines.node` admits the oldest Node our package.json admits, and that Node is on the 20 line.
 * CI also runs `npm ci --engine-strict` on Node 20; this test says which package is at fault
 * before that, and on any machine. Some dependencies ask for Node 22 without needing it
 * (`@nats-io/nuid@3`, `cookie@2`): package.json `overrides` pins their Node 20 releases.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

type Version = readonly [number, number, number];

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string } | readonly string[];
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/** `20`, `20.x`, `20.6`, `v20.6.0`: missing or wildcard parts are reported as undefined. */
function parts(text: string): (number | undefined)[] {
  return text
    .replace(/^v/, '')
    .split('.')
    .slice(0, 3)
    .map((p) => (/^\d+$/.test(p) ? Number(p) : undefined));
}

/** Whether `version` satisfies one comparator (`>=20.6.0`, `^18.19.0`, `~1.2`, `20`, `*`). */
function satisfiesComparator(version: Version, comparator: string): boolean {
  const m = /^(\^|~|>=|<=|>|<|=)?\s*(.*)$/.exec(comparator) as RegExpExecArray;
  const op = m[1] ?? '';
  const body = m[2] ?? '';
  if (body === '' || body === '*' || /^x$/i.test(body)) return true;
  const [major = 0, minor, patch] = parts(body);
  const low: Version = [major, minor ?? 0, patch ?? 0];
  const c = compare(version, low);
  switch (op) {
    case '>=':
      return c >= 0;
    case '>':
      // `>20` and `>20.x` mean past the whole 20 line.
      return minor === undefined
        ? version[0] > major
        : patch === undefined
          ? compare(version, [major, minor, Infinity]) > 0
          : c > 0;
    case '<':
      return c < 0;
    case '<=':
      return minor === undefined
        ? version[0] <= major
        : patch === undefined
          ? compare(version, [major, minor, Infinity]) <= 0
          : c <= 0;
    case '^':
      return c >= 0 && (major > 0 ? version[0] === major : version[0] === 0 && version[1] === (minor ?? 0));
    case '~':
      return c >= 0 && version[0] === major && (minor === undefined || version[1] === minor);
    default:
      // `20`, `20.x`, `=20.6.0`: every version the given parts match.
      return (
        version[0] === major &&
        (minor === undefined || version[1] === minor) &&
        (patch === undefined || version[2] === patch)
      );
  }
}

/** Whether `version` satisfies a node-semver range (`||` of space-separated comparators). */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) => {
    const hyphen = /^\s*(\S+)\s+-\s+(\S+)\s*$/.exec(alternative);
    const comparators = hyphen
      ? [`>=${hyphen[1]}`, `<=${hyphen[2]}`]
      : alternative
          .trim()
          .replace(/(\^|~|>=|<=|>|<|=)\s+/g, '$1')
          .split(/\s+/);
    return comparators.every((c) => satisfiesComparator(version, c));
  });
}

/** The oldest version a `>=X.Y.Z` range admits. */
function floorOf(range: string): Version {
  const m = /^\s*>=\s*(\d+)(?:\.(\d+))?(?:\.(\d+))?\s*$/.exec(range);
  expect(m, `package.json engines.node '${range}' should read '>=X.Y.Z'`).not.toBeNull();
  return [Number(m?.[1]), Number(m?.[2] ?? 0), Number(m?.[3] ?? 0)];
}

describe('the range check', () => {
  it('reads the forms dependencies use', () => {
    const v: Version = [20, 19, 0];
    for (const yes of [
      '>=20',
      '>=8.0.0',
      '>= 18.x',
      '^20.19.0 || >=22.12.0',
      '18 || 20 || >=22',
      '^18.19.0 || >=20.6.0',
      '*',
      '>=20.19.0 <21',
      '20.x',
      '>= 0.8',
      '^12.22.0 || ^14.17.0 || >=16.0.0',
      '18 - 20',
    ])
      expect(satisfies(v, yes), yes).toBe(true);
    for (const no of [
      '>=22',
      '>= 22.x',
      '>=22.15.0',
      '^20.19.1',
      '^18.0.0',
      '22',
      '<20',
      '>20',
      '^20.19.0 <20.19.0',
      '>=20.20.0 || ^22',
    ])
      expect(satisfies(v, no), no).toBe(false);
  });
});

describe('engines', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, LockEntry>;
  };
  const floor = floorOf(pkg.engines.node);

  it('package.json admits Node 20', () => {
    expect(floor[0]).toBe(20);
  });

  it('every locked package admits the oldest Node package.json admits', () => {
    const refused: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const node = Array.isArray(entry.engines)
        ? undefined
        : (entry.engines as { node?: string } | undefined)?.node;
      if (path === '' || typeof node !== 'string') continue;
      if (!satisfies(floor, node)) refused.push(`${path}@${entry.version ?? '?'} wants node ${node}`);
    }
    expect(refused, `these need a newer Node than ${floor.join('.')}`).toEqual([]);
  });
});
