/**
 * The failure line a notification quotes, found in real tools' output: a Python traceback
 * (the exception, not the frame above it), a script's own `error:` line, torchrun's wrapper
 * after the real error, CUDA's out-of-memory; and the tail of a log larger than what is read.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findErrorLine, readLogTail, screenLine, TAIL_BYTES, withoutPrefix } from './log-tail.ts';

const TRACEBACK = `{'loss': 2.31, 'learning_rate': 1e-05, 'epoch': 0.1}
Traceback (most recent call last):
  File "/home/u/.keel/code/abc/train.py", line 88, in <module>
    model = AutoModelForCausalLM.from_pretrained(args.model)
  File "/usr/lib/python3/site-packages/transformers/modeling_utils.py", line 3291, in from_pretrained
    raise EnvironmentError(
OSError: base-models/llama-3-8b is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'
`;

describe('the line that says why a run failed', () => {
  it('is the exception line of a Python traceback', () => {
    assert.equal(findErrorLine(TRACEBACK.split('\n')), "OSError: base-models/llama-3-8b is not a local folder and is not a valid model identifier listed on 'https://huggingface.co/models'");
  });

  it('is a script\'s own error line, and CUDA\'s words', () => {
    assert.equal(findErrorLine(['step 10 loss 1.2', 'error: data/train.jsonl: cannot read (No such file or directory)', '']), 'error: data/train.jsonl: cannot read (No such file or directory)');
    assert.equal(findErrorLine(['torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity)']), 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 79.15 GiB total capacity)');
  });

  it('prefers the real error to the launcher that wraps it', () => {
    const torchrun = [...TRACEBACK.split('\n'), 'ERROR:torch.distributed.elastic.multiprocessing.api:failed (exitcode: 1) local_rank: 0', 'torch.distributed.elastic.multiprocessing.errors.ChildFailedError: ', '============================================================'];
    assert.match(findErrorLine(torchrun) ?? '', /^OSError: base-models/);
    assert.equal(findErrorLine(['torch.distributed.elastic.multiprocessing.errors.ChildFailedError: train.py FAILED']), 'torch.distributed.elastic.multiprocessing.errors.ChildFailedError: train.py FAILED');
  });

  it('is none when nothing in the log names an error, and skips the job wrapper\'s notes', () => {
    assert.equal(findErrorLine(['step 1 loss 2.0', 'done', '2026-01-01T00:00:00Z keel run.sh: error: exit code 1']), null);
  });

  it('leaves Keel\'s job folder out of the paths it names', () => {
    const job = '/home/ada/.keel/local/jobs/run_x1/1';
    assert.equal(withoutPrefix(`error: ${job}/config.yaml: learning_rate must be a number, got 'fast'`, `${job}/`), "error: config.yaml: learning_rate must be a number, got 'fast'");
    assert.equal(withoutPrefix('error: data/x: gone', null), 'error: data/x: gone');
  });

  it('shows what a terminal shows: no colours, the last redraw of a progress bar', () => {
    assert.equal(screenLine('\x1b[31mValueError: bad\x1b[0m'), 'ValueError: bad');
    assert.equal(screenLine(' 10%|█         | 1/10\r 50%|█████     | 5/10\r'), ' 50%|█████     | 5/10');
  });
});

describe('readLogTail', () => {
  it('reads only the end of a large log and drops the cut first line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'keel-tail-'));
    try {
      const log = join(dir, '1.log');
      const filler = Array.from({ length: 5000 }, (_, i) => `step ${i} loss ${(1 / (i + 1)).toFixed(6)} ${'x'.repeat(20)}`).join('\n');
      writeFileSync(log, `${filler}\n${TRACEBACK}\n\n`);
      const tail = readLogTail(log, 5);
      assert.equal(tail.lines.length, 5);
      assert.match(tail.lines.at(-1) ?? '', /^OSError: base-models/);
      assert.match(tail.errorLine ?? '', /^OSError: base-models/);
      assert.ok(filler.length > TAIL_BYTES, 'the log is larger than the tail');
      assert.deepEqual(readLogTail(join(dir, 'missing.log'), 5), { lines: [], errorLine: null });
      assert.deepEqual(readLogTail(null, 5), { lines: [], errorLine: null });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
