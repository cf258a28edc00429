import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isGlobItemError, readProjectFile, readProjectFileAsync } from './record-project.ts';

describe('reading keel.yaml', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'keel-record-project-')); });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const project = (name: string, make: (file: string) => void): string => {
    const root = join(dir, name);
    mkdirSync(root);
    make(join(root, 'keel.yaml'));
    return root;
  };

  it('a FIFO, a device and an over-size keel.yaml are project errors naming the file, what it is and the limit', { timeout: 20_000 }, async () => {
    const cases: [string, (file: string) => void, RegExp][] = [
      ['fifo', (f) => execFileSync('mkfifo', [f]), /keel\.yaml \S+\/fifo\/keel\.yaml is a FIFO \(named pipe\), not a regular file; Keel reads only regular files\. Replace it with a file\./],
      ['zero', (f) => symlinkSync('/dev/zero', f), /keel\.yaml \S+\/zero\/keel\.yaml is a character device, not a regular file/],
      ['huge', (f) => { writeFileSync(f, 'name: huge\n'); truncateSync(f, 50 * 1024 * 1024); }, /keel\.yaml \S+\/huge\/keel\.yaml is 50 MiB, over Keel's 256 KiB limit for a keel\.yaml; it was not read/],
    ];
    for (const [name, make, want] of cases) {
      const root = project(name, make);
      for (const read of [await readProjectFileAsync(root), readProjectFile(root)]) {
        assert.equal(read.project, undefined, name);
        assert.equal(read.name, name);
        assert.match(read.errors[0] ?? '', want);
        assert.deepEqual(read.diagnostics.map((d) => [d.severity, d.line, d.column, d.file]), [['error', 1, 1, join(root, 'keel.yaml')]]);
      }
    }
  });

  it('an unusable dataset glob leaves the project tracked without it; an unusable ignore glob does not', async () => {
    const partly = project('partly', (f) => writeFileSync(f, 'name: partly\ndatasets:\n  - data/{a,b\n  - data/*.jsonl\n'));
    const read = await readProjectFileAsync(partly);
    assert.deepEqual(read.project?.datasets, ['data/*.jsonl']);
    assert.equal(read.errors.length, 1);
    assert.match(read.errors[0] ?? '', /keel\.yaml:3:5: datasets\[0\] "data\/\{a,b" has a "\{" that is never closed/);
    const ignored = project('ignored', (f) => writeFileSync(f, 'name: ignored\nignore:\n  - "secret/{a,b"\n'));
    assert.equal((await readProjectFileAsync(ignored)).project, undefined);
    assert.equal(isGlobItemError('configs[2]'), true);
    assert.equal(isGlobItemError('ignore[0]'), false);
    assert.equal(isGlobItemError('datasets'), false);
  });
});
