// Writes daemon/src/store/schema-latest.ts: the schema a new keel.db is created with in one
// transaction, instead of running every migration in turn. It is what migrations.ts makes of
// an empty file, read back from sqlite_schema in creation order. Run it after adding a
// migration: daemon/src/store/schema-latest.test.ts fails until the file matches.
//
//   node scripts/schema-latest.mjs [--check]
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { latestSchemaModule } from '../daemon/src/store/schema-latest-source.ts';

const root = resolve(import.meta.dirname, '..');
const target = join(root, 'daemon', 'src', 'store', 'schema-latest.ts');
const dir = mkdtempSync(join(tmpdir(), 'keel-schema-'));
try {
  const text = latestSchemaModule(join(dir, 'keel.db'));
  if (process.argv.includes('--check')) {
    if (readFileSync(target, 'utf8') !== text) {
      console.error(`${target} is out of date: run \`node scripts/schema-latest.mjs\``);
      process.exit(1);
    }
  } else {
    writeFileSync(target, text);
    console.log(`wrote ${target}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
