import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Store } from '../../store/index.ts';
import { snapshotCode } from './snapshot.ts';
import { redactKeelYaml } from './secrets.ts';
import { useTempStore } from '../../../../test/support/temp-store.ts';

const gitEnv = {
  ...process.env,
  GIT_AUTHOR_NAME: 'Keel Test', GIT_AUTHOR_EMAIL: 'test@keel.invalid', GIT_AUTHOR_DATE: '2024-01-01T00:00:00Z',
  GIT_COMMITTER_NAME: 'Keel Test', GIT_COMMITTER_EMAIL: 'test@keel.invalid', GIT_COMMITTER_DATE: '2024-01-01T00:00:00Z',
};
const git = (cwd: string, ...args: string[]): string => execFileSync('git', args, { cwd, env: gitEnv, encoding: 'utf8' });

/** Every file under `dir` except .git: path → content hash (or link target) and the exec bit. */
function tree(dir: string, rel = ''): Map<string, string> {
  const out = new Map<string, string>();
  for (const entry of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const path = rel === '' ? entry.name : `${rel}/${entry.name}`;
    if (path === '.git') continue;
    const abs = join(dir, path);
    if (entry.isDirectory()) for (const [k, v] of tree(dir, path)) out.set(k, v);
    else if (entry.isSymbolicLink()) out.set(path, `link:${readlinkSync(abs)}`);
    else out.set(path, `${createHash('sha256').update(readFileSync(abs)).digest('hex')} ${(lstatSync(abs).mode & 0o100) !== 0 ? 'x' : '-'}`);
  }
  return out;
}

/** Checks the code version out into a fresh clone and applies its patch: the tree must match `expected`. */
function reapply(store: Store, source: string, codeVersionId: string, into: string): Map<string, string> {
  const cv = store.codeVersions.get(codeVersionId);
  if (cv?.commit) {
    git(tmpdir(), 'clone', '--quiet', '--no-checkout', source, into);
    git(into, 'checkout', '--quiet', '--detach', cv.commit);
  } else {
    git(tmpdir(), 'init', '--quiet', into);
  }
  const patch = store.codeVersions.patch(codeVersionId);
  if (patch) execFileSync('git', ['apply', '--whitespace=nowarn', '-'], { cwd: into, input: patch, env: gitEnv });
  return tree(into);
}

describe('snapshotCode', () => {
  const { dir, store } = useTempStore('keel-code-');
  let projectId: string;
  before(() => {
    projectId = store.projects.upsert(join(dir, 'p'), 'p', {}, []).project.id;
  });

  it('records a clean repo once, with branch and a credential-free remote', async () => {
    const repo = join(dir, 'clean repo');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(repo, 'train.py'), 'print("train")\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'first');
    git(repo, 'remote', 'add', 'backup', 'https://other.invalid/x.git');
    git(repo, 'remote', 'add', 'origin', 'https://alice:s3cr3t-token@git.example.com/team/llm.git');
    const sha = git(repo, 'rev-parse', 'HEAD').trim();
    const first = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(first.warning, undefined);
    assert.equal(first.created, true);
    assert.equal(first.codeVersion?.commit, sha);
    assert.equal(first.codeVersion?.branch, 'main');
    assert.equal(first.codeVersion?.remote, 'https://git.example.com/team/llm.git');
    assert.equal(first.codeVersion?.dirty, false);
    assert.equal(first.codeVersion?.patchHash, null);
    const second = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(second.created, false);
    assert.equal(second.codeVersion?.id, first.codeVersion?.id);

    // The same commit and changes are the same code version, whatever the branch; a new
    // commit made on a detached HEAD records no branch.
    git(repo, 'checkout', '--quiet', '--detach');
    assert.equal((await snapshotCode({ store }, { id: projectId, root: repo })).codeVersion?.id, first.codeVersion?.id);
    writeFileSync(join(repo, 'eval.py'), 'print("eval")\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'detached work');
    const detached = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(detached.codeVersion?.branch, null);
    assert.equal(detached.codeVersion?.commit, git(repo, 'rev-parse', 'HEAD').trim());
    assert.notEqual(detached.codeVersion?.commit, sha);
  });

  it('captures tracked and untracked changes, never ignored files, and the patch re-applies to the same tree', async () => {
    const repo = join(dir, 'repo ü $(touch pwned) "q"');
    mkdirSync(join(repo, 'src'), { recursive: true });
    git(repo, 'init', '--quiet', '-b', 'dev');
    writeFileSync(join(repo, '.gitignore'), 'outputs/\n*.log\n');
    writeFileSync(join(repo, 'src', 'model.py'), 'import torch\n\nLR = 3e-4\n');
    writeFileSync(join(repo, 'src', 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])); // "café" in Latin-1
    writeFileSync(join(repo, 'run.sh'), 'python src/model.py\n');
    writeFileSync(join(repo, 'old.txt'), 'remove me\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'base');
    const sha = git(repo, 'rev-parse', 'HEAD').trim();

    writeFileSync(join(repo, 'src', 'model.py'), 'import torch\n\nLR = 1e-4\n'); // unstaged edit
    writeFileSync(join(repo, 'src', 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21, 0x0a]));
    git(repo, 'add', 'src/latin1.txt'); // staged edit
    chmodSync(join(repo, 'run.sh'), 0o755);
    unlinkSync(join(repo, 'old.txt'));
    writeFileSync(join(repo, 'notes with spaces & "quotes" $(x).md'), '# notes\n');
    writeFileSync(join(repo, 'données-日本.txt'), 'unicode\n');
    writeFileSync(join(repo, 'src', 'table.bin'), Buffer.from([0, 255, 1, 254, 0, 0, 7]));
    symlinkSync('src/model.py', join(repo, 'model-link.py'));
    mkdirSync(join(repo, 'outputs'));
    writeFileSync(join(repo, 'outputs', 'adapter.safetensors'), 'IGNORED-WEIGHTS');
    writeFileSync(join(repo, 'train.log'), 'IGNORED-LOG');

    const indexBefore = readFileSync(join(repo, '.git', 'index'));
    const statusBefore = git(repo, 'status', '--porcelain');
    const objectsBefore = git(repo, 'count-objects');
    const snap = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(snap.warning, undefined);
    assert.equal(snap.codeVersion?.commit, sha);
    assert.equal(snap.codeVersion?.branch, 'dev');
    assert.equal(snap.codeVersion?.dirty, true);
    assert.match(snap.codeVersion?.patchHash ?? '', /^sha256:[0-9a-f]{64}$/);
    // The user's repository is untouched: same index bytes, same status, no new objects.
    assert.deepEqual(readFileSync(join(repo, '.git', 'index')), indexBefore);
    assert.equal(git(repo, 'status', '--porcelain'), statusBefore);
    assert.equal(git(repo, 'count-objects'), objectsBefore);

    const patch = store.codeVersions.patch(snap.codeVersion?.id ?? '') ?? Buffer.alloc(0);
    assert.equal(patch.includes('IGNORED'), false);
    assert.equal(patch.includes('deleted file mode 100644'), true);
    assert.equal(patch.includes('new mode 100755'), true);
    assert.equal(patch.includes('GIT binary patch'), true);
    assert.equal(patch.includes(Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x21])), true); // raw Latin-1 bytes kept

    const again = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(again.codeVersion?.id, snap.codeVersion?.id);
    assert.equal(again.created, false);

    const expected = tree(repo);
    for (const ignored of ['outputs/adapter.safetensors', 'train.log']) expected.delete(ignored);
    assert.equal(expected.size, 8);
    assert.deepEqual(reapply(store, repo, snap.codeVersion?.id ?? '', join(dir, 'clone-dirty')), expected);

    writeFileSync(join(repo, 'src', 'model.py'), 'import torch\n\nLR = 2e-4\n');
    const edited = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(edited.created, true);
    assert.notEqual(edited.codeVersion?.patchHash, snap.codeVersion?.patchHash);
  });

  it('leaves big untracked files out with a warning', async () => {
    const repo = join(dir, 'capped');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(repo, 'a.py'), 'a = 1\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'a');
    writeFileSync(join(repo, 'b.py'), 'b = 2\n');
    writeFileSync(join(repo, 'big.ckpt'), Buffer.alloc(4096, 1));
    const snap = await snapshotCode({ store, maxUntrackedBytes: 1024 }, { id: projectId, root: repo });
    assert.deepEqual(snap.leftOut, ['big.ckpt']);
    assert.match(snap.warning ?? '', /left out 1 untracked file\(s\) \(0\.0 MiB\) over the 0\.0 MiB limit.*big\.ckpt/);
    const patch = store.codeVersions.patch(snap.codeVersion?.id ?? '')?.toString('utf8') ?? '';
    assert.match(patch, /^diff --git a\/b\.py b\/b\.py$/m);
    assert.doesNotMatch(patch, /big\.ckpt/);
  });

  it('keeps files that look like secrets out of the patch, tracked ones included, and names them', async () => {
    const repo = join(dir, 'secret files');
    mkdirSync(join(repo, 'config'), { recursive: true });
    git(repo, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(repo, 'keel.yaml'), 'name: s\nsecrets:\n  - private/\n');
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    writeFileSync(join(repo, 'config', 'service.key'), 'committed-key\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'base');
    writeFileSync(join(repo, 'train.py'), 'print(2)\n');
    writeFileSync(join(repo, 'config', 'service.key'), 'KEY_SECRET_CHANGED\n');
    writeFileSync(join(repo, '.env.local'), 'OPENAI_API_KEY=sk-untracked-secret\n');
    mkdirSync(join(repo, 'deploy'));
    writeFileSync(join(repo, 'deploy', 'id_ed25519'), 'PRIVATE KEY STAGED SECRET\n');
    git(repo, 'add', 'deploy/id_ed25519'); // staged by the user: still left out
    mkdirSync(join(repo, 'private'));
    writeFileSync(join(repo, 'private', 'notes.txt'), 'user-glob-secret\n');
    writeFileSync(join(repo, 'notes.md'), '# kept\n');
    const statusBefore = git(repo, 'status', '--porcelain');

    const snap = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.deepEqual(snap.secrets, ['.env.local', 'config/service.key', 'deploy/id_ed25519', 'private/notes.txt']);
    assert.match(snap.warning ?? '', /left out 4 file\(s\) that look like secrets: \.env\.local, config\/service\.key, deploy\/id_ed25519, private\/notes\.txt\. .*train\.env/);
    const patch = store.codeVersions.patch(snap.codeVersion?.id ?? '') ?? Buffer.alloc(0);
    for (const secret of ['sk-untracked-secret', 'KEY_SECRET_CHANGED', 'STAGED SECRET', 'user-glob-secret', 'committed-key']) {
      assert.equal(patch.includes(secret), false, `${secret} is not in the patch`);
    }
    assert.equal(git(repo, 'status', '--porcelain'), statusBefore, "the user's index is untouched");
    const clone = reapply(store, repo, snap.codeVersion?.id ?? '', join(dir, 'clone-secrets'));
    assert.deepEqual([...clone.keys()].sort(), ['config/service.key', 'keel.yaml', 'notes.md', 'train.py']);
    assert.equal(readFileSync(join(dir, 'clone-secrets', 'config', 'service.key'), 'utf8'), 'committed-key\n', 'a tracked secret stays as committed');
    assert.equal(readFileSync(join(dir, 'clone-secrets', 'train.py'), 'utf8'), 'print(2)\n');
  });

  it('redacts keel.yaml env values on both sides of the patch; it applies to the redacted commit', async () => {
    const repo = join(dir, 'env values');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    const yaml = (command: string, env: string[]): string => ['name: e', 'train:', `  command: ${command}`, '  env:', ...env.map((l) => `    ${l}`), ''].join('\n');
    writeFileSync(join(repo, 'keel.yaml'), yaml('python3 train.py', ['HF_TOKEN: "hf_committed_old"', 'SEED: "1"']));
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'base');
    const clean = await snapshotCode({ store }, { id: projectId, root: repo });

    // A new value alone changes nothing that is recorded: the same code version as the commit.
    writeFileSync(join(repo, 'keel.yaml'), yaml('python3 train.py', ['HF_TOKEN: "hf_rotated_value"', 'SEED: "1"']));
    const rotated = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(rotated.codeVersion?.id, clean.codeVersion?.id);
    assert.equal(rotated.codeVersion?.patchHash, null);

    const edited = yaml('python3 train.py --fast', ['HF_TOKEN: "hf_uncommitted_new"', 'SEED: "1"', 'WANDB_API_KEY: wb_new_secret']);
    writeFileSync(join(repo, 'keel.yaml'), edited);
    writeFileSync(join(repo, 'train.py'), 'print(2)\n');
    const snap = await snapshotCode({ store }, { id: projectId, root: repo });
    const patch = store.codeVersions.patch(snap.codeVersion?.id ?? '') ?? Buffer.alloc(0);
    for (const secret of ['hf_committed_old', 'hf_uncommitted_new', 'wb_new_secret', 'hf_rotated_value']) assert.equal(patch.includes(secret), false, secret);
    const text = patch.toString('utf8');
    assert.match(text, /^-  command: python3 train\.py$/m);
    assert.match(text, /^\+  command: python3 train\.py --fast$/m);
    assert.match(text, /^ {5}HF_TOKEN: '\[redacted\]'$/m, 'a context line is redacted too');
    assert.match(text, /^\+ {4}WANDB_API_KEY: '\[redacted\]'$/m);

    // On the plain commit, keel.yaml's preimage holds the real values: git apply refuses the
    // patch; --reject applies the rest and leaves keel.yaml.rej.
    const plain = join(dir, 'clone-env-plain');
    git(tmpdir(), 'clone', '--quiet', repo, plain);
    assert.throws(() => execFileSync('git', ['apply', '-'], { cwd: plain, input: patch, env: gitEnv, stdio: 'pipe' }));
    assert.throws(() => execFileSync('git', ['apply', '--reject', '-'], { cwd: plain, input: patch, env: gitEnv, stdio: 'pipe' }));
    assert.equal(readFileSync(join(plain, 'train.py'), 'utf8'), 'print(2)\n');
    assert.ok(readdirSync(plain).includes('keel.yaml.rej'));
    // With the commit's keel.yaml redacted the same way first, it applies exactly.
    const redacted = join(dir, 'clone-env-redacted');
    git(tmpdir(), 'clone', '--quiet', repo, redacted);
    writeFileSync(join(redacted, 'keel.yaml'), redactKeelYaml(readFileSync(join(redacted, 'keel.yaml'), 'utf8')));
    execFileSync('git', ['apply', '-'], { cwd: redacted, input: patch, env: gitEnv });
    assert.equal(readFileSync(join(redacted, 'keel.yaml'), 'utf8'), redactKeelYaml(edited));
    assert.equal(readFileSync(join(redacted, 'train.py'), 'utf8'), 'print(2)\n');
  });

  it('sees a file rewritten with the same size in the second it was committed (git\'s racily clean entries)', async () => {
    const repo = join(dir, 'racy');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    git(repo, 'config', 'core.trustctime', 'false');
    // Whole-second mtimes throughout, so the index entry matches the rewritten file to the
    // nanosecond; and the index is no older than the file: exactly what an edit in the same
    // second as the commit looks like. Only git's racy check (file mtime >= index mtime →
    // compare contents) can see it.
    const second = Math.floor(Date.now() / 1000) - 60;
    writeFileSync(join(repo, 'train.py'), 'print(1)\n');
    utimesSync(join(repo, 'train.py'), second, second);
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'base');
    writeFileSync(join(repo, 'train.py'), 'print(2)\n');
    utimesSync(join(repo, 'train.py'), second, second);
    utimesSync(join(repo, '.git', 'index'), second, second);
    const snap = await snapshotCode({ store }, { id: projectId, root: repo });
    assert.equal(snap.codeVersion?.dirty, true, 'the rewrite is a change');
    const patch = store.codeVersions.patch(snap.codeVersion?.id ?? '')?.toString('utf8') ?? '';
    assert.match(patch, /^\+print\(2\)$/m);
  });

  it('does not store a patch over the size limit, and says so', async () => {
    const repo = join(dir, 'huge change');
    mkdirSync(repo);
    git(repo, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(repo, 'table.csv'), 'a,b\n');
    git(repo, 'add', '.');
    git(repo, 'commit', '--quiet', '-m', 'base');
    writeFileSync(join(repo, 'table.csv'), 'a,b\n' + 'TRACKED-ROW,1\n'.repeat(400)); // tracked: no untracked cap applies
    const snap = await snapshotCode({ store, maxPatchBytes: 1024 }, { id: projectId, root: repo });
    assert.match(snap.warning ?? '', /patch, over the 0\.0 MiB limit: the patch is not stored.*Commit them/);
    assert.equal(snap.codeVersion?.dirty, true);
    const stored = store.codeVersions.patch(snap.codeVersion?.id ?? '') ?? Buffer.alloc(0);
    assert.ok(stored.length < 1024);
    assert.match(stored.toString('utf8'), /^# Keel did not store this patch: the uncommitted changes made \d+ bytes, over the 1024-byte limit\.\n# sha256 of the patch that was not stored: [0-9a-f]{64}\n$/);
    assert.equal(stored.includes('TRACKED-ROW'), false);
    const again = await snapshotCode({ store, maxPatchBytes: 1024 }, { id: projectId, root: repo });
    assert.equal(again.codeVersion?.id, snap.codeVersion?.id, 'the same changes are the same code version');
    writeFileSync(join(repo, 'table.csv'), 'a,b\n' + 'TRACKED-ROW,2\n'.repeat(400));
    const other = await snapshotCode({ store, maxPatchBytes: 1024 }, { id: projectId, root: repo });
    assert.notEqual(other.codeVersion?.id, snap.codeVersion?.id, 'other changes are another code version');
  });

  it('snapshots a repository with no commits yet, and a project in a sub-folder of a repository', async () => {
    const repo = join(dir, 'unborn');
    mkdirSync(join(repo, 'pkg'), { recursive: true });
    git(repo, 'init', '--quiet', '-b', 'main');
    writeFileSync(join(repo, 'staged.py'), 'x = 1\n');
    git(repo, 'add', 'staged.py');
    writeFileSync(join(repo, 'pkg', 'untracked.py'), 'y = 2\n');
    const snap = await snapshotCode({ store }, { id: projectId, root: join(repo, 'pkg') });
    assert.equal(snap.codeVersion?.commit, null);
    assert.equal(snap.codeVersion?.branch, 'main');
    assert.match(snap.warning ?? '', /no commits yet/);
    assert.deepEqual(reapply(store, repo, snap.codeVersion?.id ?? '', join(dir, 'clone-unborn')), tree(repo));
    const again = await snapshotCode({ store }, { id: projectId, root: join(repo, 'pkg') });
    assert.equal(again.codeVersion?.id, snap.codeVersion?.id);
  });

  it('warns instead of failing without a repository or without git', async () => {
    const plain = join(dir, 'not a repo');
    mkdirSync(plain);
    const none = await snapshotCode({ store }, { id: projectId, root: plain });
    assert.equal(none.codeVersion, null);
    assert.match(none.warning ?? '', /^not a git repository/);
    const noGit = await snapshotCode({ store, gitBinary: '/nonexistent/bin/git' }, { id: projectId, root: plain });
    assert.equal(noGit.codeVersion, null);
    assert.match(noGit.warning ?? '', /^git is not installed/);
    const gone = await snapshotCode({ store }, { id: projectId, root: join(dir, 'missing') });
    assert.match(gone.warning ?? '', /does not exist/);
  });
});
