/**
 * A keel.db at schema version 1, as a Keel of that version left it: created from the first
 * migration's SQL and filled through the store classes over that connection (metric points
 * and checkpoints by version-1 SQL: today's classes write columns version 1 does not have),
 * with real rows in every table that refers to `runs` (and the tables runs refers to), so a
 * migration test can check that every row and every link survives.
 */
import Database from 'better-sqlite3';
import { migrations } from '../../daemon/src/store/migrations.ts';
import { BlobStore } from '../../daemon/src/store/blobs.ts';
import { CodeVersionStore } from '../../daemon/src/store/code-versions.ts';
import { ConfigStore } from '../../daemon/src/store/configs.ts';
import { CursorStore } from '../../daemon/src/store/cursors.ts';
import { EvalStore } from '../../daemon/src/store/evals.ts';
import { EventStore } from '../../daemon/src/store/events.ts';
import { HostStore } from '../../daemon/src/store/hosts.ts';
import { JobStore } from '../../daemon/src/store/jobs.ts';
import { LineageStore } from '../../daemon/src/store/lineage.ts';
import { ModelStore } from '../../daemon/src/store/models.ts';
import { ProjectStore } from '../../daemon/src/store/projects.ts';
import { RunLinkStore } from '../../daemon/src/store/run-links.ts';
import { RunStore } from '../../daemon/src/store/runs.ts';
import { SweepStore } from '../../daemon/src/store/sweeps.ts';

/** Ids of what the v1 fixture holds. */
export interface V1Fixture {
  runIds: string[];
  parentRunId: string;
  childRunId: string;
  checkpointIds: string[];
}

/** The SQL of schema version 1 (the first migration). */
export function v1SchemaSql(): string {
  const step = migrations[0]?.steps[0];
  if (typeof step !== 'string') throw new Error('migration 1 is expected to be one SQL string');
  return step;
}

function fill(db: Database.Database): V1Fixture {
  const blobs = new BlobStore(db);
  const runs = new RunStore(db);
  const project = new ProjectStore(db).upsert('/work/proj', 'proj', { name: 'proj' }, []).project;
  const config = new ConfigStore(db, blobs).record({
    hash: 'sha256:c0', format: 'yaml', flavor: 'axolotl', text: 'lr: 0.1\n', params: { lr: 0.1 }, projectId: project.id, absPath: '/work/proj/c.yaml',
  }).config;
  const code = new CodeVersionStore(db, blobs).record({ projectId: project.id, commit: 'a'.repeat(40), branch: 'main', remote: null, dirty: true, patch: Buffer.from('diff\n') }).codeVersion;
  const host = new HostStore(db).add({ name: 'gpu1', backend: 'ssh', sshTarget: 'gpu1', workdir: '~/.keel' });
  const sweepId = new SweepStore(db).create(project.id, 'lr-sweep', { grid: ['lr=0.1,0.2'] });
  const parent = runs.create({
    projectId: project.id, name: 'parent', source: 'launch', configId: config.id, codeVersionId: code.id, hostId: host.id, sweepId,
    outputDir: '/work/proj/out/parent', priority: 3, gpus: 2, maxRetries: 1, launch: { config: 'c.yaml' },
  });
  db.prepare('UPDATE runs SET effective_config_hash = ? WHERE id = ?').run(blobs.put(Buffer.from('lr: 0.2\n')), parent.id);
  runs.setStatus(parent.id, 'running');
  runs.setStatus(parent.id, 'failed', { exitCode: 3, reason: 'exit 3' });
  const child = runs.create({ projectId: project.id, name: 'child', source: 'launch', parentRunId: parent.id, hostId: host.id, sweepId });
  const imported = runs.create({ projectId: null, name: 'imported', source: 'import', status: 'running', outputDir: '/data/imported' });
  const links = new RunLinkStore(db);
  const checkpointIds: string[] = [];
  for (const run of [parent, child, imported]) {
    links.setParams(run.id, { lr: 0.1, 'model.name': run.name });
    recordV1Metrics(db, run.id, 'loss', [1, 2, 3].map((step) => [step, 1 / step, 1.7e9 + step]));
    recordV1Metrics(db, run.id, 'eval_loss', [[3, null, null]]);
    const ckptId = `ckpt_${run.name}`;
    db.prepare(`INSERT INTO checkpoints (id, run_id, step, location, host_id, hash, size_bytes, kind, base_model, manifest_json, created_at)
      VALUES (?, ?, 3, ?, ?, 'sha256:aa', 10, 'adapter', NULL, NULL, ?)`).run(ckptId, run.id, `/ckpt/${run.name}/checkpoint-3`, host.id, Date.now());
    checkpointIds.push(ckptId);
    new LineageStore(db).addEdge({ kind: 'run', id: run.id }, { kind: 'checkpoint', id: ckptId }, 'produced');
    new EventStore(db).add({ kind: 'loss_nan', severity: 'warning', runId: run.id, hostId: host.id, message: 'loss is NaN' });
    new CursorStore(db).put(`run:${run.id}`, '/x/metrics.jsonl', { byteOffset: 10, lineCount: 2, state: { dev: 1 } });
  }
  new LineageStore(db).addEdge({ kind: 'run', id: parent.id }, { kind: 'run', id: child.id }, 'reran');
  const job = new JobStore(db).create({ runId: parent.id, backend: 'ssh', hostId: host.id, jobDirFor: (n) => `~/.keel/jobs/${parent.id}/${n}`, gpuIds: ['0', '1'] });
  new CursorStore(db).put(`job:${job.id}`, 'logs/run.log', { byteOffset: 99 });
  new EvalStore(db).upsert({
    subjectKind: 'checkpoint', subjectId: checkpointIds[0] ?? null, evalRunId: child.id, sourcePath: '/r/results.json', task: 'arc', metric: 'acc', value: 0.5, stderr: 0.01,
  });
  new ModelStore(db).tag(project.id, 'prod', checkpointIds[2] ?? '');
  return { runIds: [parent.id, child.id, imported.id], parentRunId: parent.id, childRunId: child.id, checkpointIds };
}

/** A series and its points as version 1 stored them ([step, value (null = NaN), wall time]). */
function recordV1Metrics(db: Database.Database, runId: string, key: string, points: [number, number | null, number | null][]): void {
  const values = points.map((p) => p[1]).filter((v): v is number => v !== null);
  const id = Number(db.prepare(`INSERT INTO metric_series (run_id, key, points, first_step, last_step, last_value, min_value, max_value, updated_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(runId, key, points.length, points[0]?.[0] ?? null, points.at(-1)?.[0] ?? null, points.at(-1)?.[1] ?? null,
    values.length ? Math.min(...values) : null, values.length ? Math.max(...values) : null, Date.now()).lastInsertRowid);
  for (const [step, value, wall] of points) db.prepare('INSERT INTO metrics (series_id, step, value, wall_time) VALUES (?, ?, ?, ?)').run(id, step, value, wall);
}

/** Writes a version-1 keel.db at `file` (closed, WAL checkpointed) and returns what it holds. */
export function writeV1Database(file: string, opts: { danglingRow?: boolean } = {}): V1Fixture {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec(v1SchemaSql());
  db.pragma('user_version = 1');
  const fixture = db.transaction(() => fill(db))();
  if (opts.danglingRow) {
    // What an old bug or a hand edit with foreign keys off leaves behind.
    db.pragma('foreign_keys = OFF');
    db.prepare("INSERT INTO run_params (run_id, key, value_json) VALUES ('run_gone', 'lr', '1')").run();
  }
  db.prepare("INSERT INTO meta (key, value) VALUES ('last_clean_shutdown', '2026-01-01T00:00:00.000Z')").run();
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return fixture;
}

/** Every row of every table (by primary key/rowid order), to compare before and after a migration. */
export function snapshotTables(file: string, except: readonly string[] = []): Record<string, unknown[]> {
  const db = new Database(file, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
    const out: Record<string, unknown[]> = {};
    for (const t of tables.filter((name) => !except.includes(name))) {
      const cols = (db.prepare(`PRAGMA table_info("${t}")`).all() as { name: string }[]).map((c) => `"${c.name}"`);
      out[t] = db.prepare(`SELECT * FROM "${t}" ORDER BY ${cols.join(', ')}`).all();
    }
    return out;
  } finally {
    db.close();
  }
}
