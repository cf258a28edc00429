// Builds the VSIX: `npm run build`, then `vsce package` with the .vscodeignore allow-list,
// then checks the result the way a user would meet it — every file the extension needs is
// inside, nothing else is, and the daemon starts from the unpacked VSIX alone and imports a
// run (its features, dist/keel-daemon-features.js) through its parse worker (dist/keel-worker.js).
//
//   node scripts/package.mjs [--no-build] [--no-check] [--out <file.vsix>]
//
// Prints the VSIX path on the last line of stdout.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { inflateRawSync } from 'node:zlib';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const args = process.argv.slice(2);
const outArg = args.indexOf('--out');
const out = resolve(root, outArg >= 0 && args[outArg + 1] ? args[outArg + 1] : `${pkg.name}-${pkg.version}.vsix`);

/** Files the installed extension cannot run without (paths inside the VSIX). */
const REQUIRED = [
  'extension/package.json',
  'extension/readme.md',
  'extension/LICENSE.txt',
  'extension/dist/extension.js',
  'extension/dist/keel.js',
  'extension/dist/keel-cli.js',
  'extension/dist/keel-daemon.js',
  'extension/dist/keel-daemon-features.js',
  'extension/dist/keel-worker.js',
  'extension/dist/webview.js',
  'extension/dist/run-page.js',
  'extension/node_modules/better-sqlite3/package.json',
  'extension/node_modules/better-sqlite3/lib/index.js',
  `extension/node_modules/better-sqlite3/prebuilds/${process.platform}-${process.arch}.node`,
];
/** What may be in the VSIX at all: anything else means the allow-list leaks. */
const ALLOWED = [
  /^\[Content_Types\]\.xml$/,
  /^extension\.vsixmanifest$/,
  /^extension\/(package\.json|readme\.md|LICENSE\.txt|changelog\.md)$/i,
  /^extension\/dist\/[^/]+\.(js|css)$/,
  /^extension\/media\//,
  /^extension\/node_modules\/better-sqlite3\/(package\.json|LICENSE|lib\/.+|prebuilds\/[^/]+\.node)$/,
];

function fail(message) {
  console.error(`package: ${message}`);
  process.exit(1);
}

function run(cmd, argv, opts = {}) {
  const r = spawnSync(cmd, argv, { cwd: root, stdio: 'inherit', ...opts });
  if (r.status !== 0) fail(`${[cmd, ...argv].join(' ')} exited ${r.status ?? r.signal}`);
  return r;
}

/** The entries of a zip file (name, method, sizes, data offset) from its central directory. */
function zipEntries(buf) {
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) eocd--;
  if (eocd < 0) throw new Error('not a zip file (no end-of-central-directory record)');
  const count = buf.readUInt16LE(eocd + 10);
  let p = buf.readUInt32LE(eocd + 16);
  const entries = [];
  for (let i = 0; i < count; i++) {
    if (buf.readUInt32LE(p) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const nameLen = buf.readUInt16LE(p + 28);
    const local = buf.readUInt32LE(p + 42);
    entries.push({
      name: buf.toString('utf8', p + 46, p + 46 + nameLen),
      method: buf.readUInt16LE(p + 10),
      compressed: buf.readUInt32LE(p + 20),
      size: buf.readUInt32LE(p + 24),
      data: local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28),
    });
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return entries;
}

/** Unpacks a zip (stored or deflated entries, as vsce writes them) into `dest`. */
function unzip(file, dest) {
  const buf = readFileSync(file);
  for (const e of zipEntries(buf)) {
    if (e.name.endsWith('/')) continue;
    const target = resolve(dest, e.name);
    if (!target.startsWith(resolve(dest) + '/')) throw new Error(`zip entry escapes the folder: ${e.name}`);
    const raw = buf.subarray(e.data, e.data + e.compressed);
    const body = e.method === 0 ? raw : e.method === 8 ? inflateRawSync(raw) : fail(`${e.name}: zip method ${e.method}`);
    if (body.length !== e.size) throw new Error(`${e.name}: unpacked ${body.length} bytes, expected ${e.size}`);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, body);
  }
}

/** Every required file is in, nothing outside the allow-list is. */
function checkContents(entries) {
  const names = new Set(entries.map((e) => e.name));
  const missing = REQUIRED.filter((n) => !names.has(n));
  if (missing.length) fail(`the VSIX lacks ${missing.join(', ')}`);
  const stray = entries.map((e) => e.name).filter((n) => !n.endsWith('/') && !ALLOWED.some((re) => re.test(n)));
  if (stray.length) fail(`the VSIX holds files outside the allow-list (fix .vscodeignore):\n  ${stray.join('\n  ')}`);
}

/**
 * Unpacks the VSIX, starts the daemon from it with a private KEEL_HOME, and imports a small
 * training output folder: its trainer_state.json is streamed through the parse worker, so
 * the worker bundle must load from the unpacked VSIX too.
 */
function checkDaemonStarts(file) {
  const tmp = mkdtempSync(join(tmpdir(), 'keel-vsix-'));
  try {
    unzip(file, tmp);
    const keel = join(tmp, 'extension', 'dist', 'keel.js');
    const env = { ...process.env, KEEL_HOME: join(tmp, 'home') };
    const run = join(tmp, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'trainer_state.json'), JSON.stringify({ global_step: 2, max_steps: 2, log_history: [{ loss: 2.5, step: 1 }, { loss: 1.5, step: 2 }] }));
    const status = spawnSync(process.execPath, [keel, 'status', '--json'], { env, encoding: 'utf8', timeout: 30_000 });
    const imported = spawnSync(process.execPath, [keel, 'import', run, '--json'], { env, encoding: 'utf8', timeout: 60_000 });
    spawnSync(process.execPath, [keel, 'daemon', 'stop'], { env, encoding: 'utf8', timeout: 30_000 });
    if (status.status !== 0) fail(`the daemon did not start from the unpacked VSIX: ${status.stderr}`);
    const daemon = JSON.parse(status.stdout).daemon;
    console.log(`daemon from the unpacked VSIX: pid ${daemon.pid}, version ${daemon.version}, protocol ${daemon.protocolVersion}`);
    const report = imported.status === 0 ? JSON.parse(imported.stdout) : undefined;
    if (report?.points !== 2 || report.issues.length > 0) fail(`the parse worker did not run from the unpacked VSIX: ${imported.stdout}${imported.stderr}`);
    console.log('parse worker from the unpacked VSIX: imported 2 points from trainer_state.json');
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

if (!args.includes('--no-build')) run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
// The bundles the VSIX must hold, as the build writes them.
for (const f of REQUIRED.filter((p) => p.startsWith('extension/dist/')).map((p) => p.slice('extension/'.length))) {
  if (!existsSync(join(root, f))) fail(`${f} is missing: the build did not produce it`);
}
// --dependencies: vsce lists the production dependencies with `npm list` and the
// .vscodeignore allow-list keeps only better-sqlite3's runtime files (with
// --no-dependencies vsce leaves every node_modules/ file out, allow-list or not).
// No repository URL exists yet and the README's relative links point into the source
// tree, so vsce must neither demand the one nor rewrite the others.
const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
run(process.execPath, [vsce, 'package', '--dependencies', '--allow-missing-repository', '--no-rewrite-relative-links', '-o', out]);
const entries = zipEntries(readFileSync(out));
checkContents(entries);
if (!args.includes('--no-check')) checkDaemonStarts(out);
console.log(`${entries.length} files, ${(statSync(out).size / 1024 / 1024).toFixed(1)} MB`);
console.log(out);
