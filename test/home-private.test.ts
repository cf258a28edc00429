/**
 * Everything under KEEL_HOME is private to its user: after a real daemon imported a run
 * and ran a local job to the end, no file or folder Keel wrote there has a group or other
 * permission bit — whatever the umask the daemon was started with — and the job's own
 * outputs, written with the user's umask, sit in a 0700 job folder. (Tests run as root, which ignores
 * permissions, so the modes are checked rather than tried.)
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, lstatSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fixturesRoot, TestHome } from './support/keel-home.ts';
import { writeProbeProject } from './support/probe-project.ts';


/** Every path under `root` (and root) whose mode has group/other bits, with the mode. */
function sharedPaths(root: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return;
    if ((st.mode & 0o077) !== 0) out.push(`${(st.mode & 0o777).toString(8)} ${path.slice(root.length) || '/'}`);
    if (st.isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(root);
  return out;
}

describe('KEEL_HOME is private', () => {
  const h = new TestHome('keel-private-', { KEEL_POLL_MS: '300', KEEL_JOB_HEARTBEAT_SECONDS: '1' });
  const root = join(h.dir, 'proj');
  const previousUmask = process.umask(0o022);
  before(() => {
    // What an older Keel left: shared folders and files at the top of KEEL_HOME.
    mkdirSync(join(h.home, 'logs'), { recursive: true, mode: 0o755 });
    writeFileSync(join(h.home, 'daemon.log'), '', { mode: 0o644 });
    writeProbeProject(root, { ok: { steps: 5, checkpoint: true } });
    h.keelJson(['init', root]);
  });
  after(() => {
    process.umask(previousUmask);
    h.cleanup();
  });

  it('after an import and a local job, nothing there is readable by group or others', () => {
    const imported = join(h.dir, 'imported');
    mkdirSync(join(imported, 'runs', 'host'), { recursive: true });
    cpSync(join(fixturesRoot, 'tfevents', 'tf1-multi-value-events_lingvo', 'events.out.tfevents.test'), join(imported, 'runs', 'host', 'events.out.tfevents.test'));
    assert.equal(h.keelJson<{ points: number }>(['import', imported]).points, 2520);
    const { run } = h.keelJson<{ run: { id: string } }>(['launch', 'configs/ok.json', '--local'], { cwd: root });
    const waited = h.keel(['wait', run.id, '--timeout', '120', '--json']);
    assert.equal(waited.code, 0, waited.stdout + waited.stderr);
    assert.match(h.keel(['logs', run.id]).stdout, /done\n/);
    // The job's own files keep the user's umask (022 here), so what a job writes elsewhere (a
    // shared model cache) is not made private behind the user's back; inside KEEL_HOME they
    // sit in a 0700 job folder, and nothing Keel itself writes has group or other bits.
    const jobDir = join(h.home, 'local', 'jobs', run.id, '1');
    assert.equal(statSync(jobDir).mode & 0o777, 0o700, 'the job folder is private');
    assert.equal(statSync(join(jobDir, 'outputs', 'info.json')).mode & 0o777, 0o644, "the job's own output has the user's modes");
    const jobOwn = `/local/jobs/${run.id}/1/outputs/`;
    const shared = sharedPaths(h.home).filter((line) => !line.slice(line.indexOf(' ') + 1).startsWith(jobOwn));
    assert.deepEqual(shared, [], `group/other bits under KEEL_HOME:\n${shared.join('\n')}`);
  });
});
