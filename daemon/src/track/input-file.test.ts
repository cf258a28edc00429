import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputFileError, openRegularFile, readInputText, readInputTextSync } from './input-file.ts';

describe('input files', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'keel-input-'));
    execFileSync('mkfifo', [join(dir, 'fifo.yaml')]);
    symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
    writeFileSync(join(dir, 'ok.yaml'), 'name: x\n');
    writeFileSync(join(dir, 'big.yaml'), 'x'.repeat(2048));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  const refused = async (file: string, reason: InputFileError['reason'], pattern: RegExp): Promise<void> => {
    for (const read of [() => readInputText(join(dir, file), { maxBytes: 1024, what: 'keel.yaml' }), () => Promise.resolve().then(() => readInputTextSync(join(dir, file), { maxBytes: 1024, what: 'keel.yaml' }))]) {
      await assert.rejects(read(), (err: unknown) => err instanceof InputFileError && err.reason === reason && pattern.test(err.message));
    }
  };

  it('reads a regular file under the cap', async () => {
    assert.equal(await readInputText(join(dir, 'ok.yaml'), { maxBytes: 1024, what: 'keel.yaml' }), 'name: x\n');
    assert.equal(readInputTextSync(join(dir, 'ok.yaml'), { maxBytes: 1024, what: 'keel.yaml' }), 'name: x\n');
  });

  it('refuses a FIFO at once instead of waiting for a writer', async () => {
    const started = Date.now();
    await refused('fifo.yaml', 'not-regular', /fifo\.yaml is a FIFO \(named pipe\), not a regular file/);
    assert.ok(Date.now() - started < 1000);
    await assert.rejects(openRegularFile(join(dir, 'fifo.yaml'), 'log'), /FIFO/);
  });

  it('refuses a link to a device', async () => {
    await refused('zero.yaml', 'not-regular', /zero\.yaml is a character device/);
  });

  it('refuses a file over the cap, naming the limit and a next step', async () => {
    await refused('big.yaml', 'too-large', /big\.yaml is 2 KiB, over Keel's 1 KiB limit for a keel\.yaml; it was not read\. Check/);
  });

  it('says a missing file is missing', async () => {
    await refused('nope.yaml', 'missing', /keel\.yaml .*nope\.yaml does not exist/);
  });
});
