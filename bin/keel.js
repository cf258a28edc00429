#!/usr/bin/env node
// The `keel` command: a thin launcher for the bundled CLI (build it with `npm run build`).
// Written for any Node, so that an old one gets a clear message instead of a crash: the
// version is checked before anything native (better-sqlite3) can load.
'use strict';
var MIN_NODE_MAJOR = 22;
var major = Number(process.versions.node.split('.')[0]);
if (!(major >= MIN_NODE_MAJOR)) {
  process.stderr.write(
    'keel: Keel needs Node.js ' + MIN_NODE_MAJOR + ' or newer; this is Node ' + process.versions.node + ' (' + process.execPath + ').\n' +
    'Node ' + major + ' cannot run it (its SQLite module crashes). Install a current Node, e.g. from https://nodejs.org,\n' +
    'or with nvm: `nvm install ' + MIN_NODE_MAJOR + '` then `nvm use ' + MIN_NODE_MAJOR + '`, and run keel with it (`node --version` should say v' + MIN_NODE_MAJOR + ' or later).\n'
  );
  process.exit(1);
}
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'keel.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('keel: the CLI is not built yet. Run `npm run setup` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
// dist/keel.js turns on Node's compile cache (daemon/src/cli/entry.ts), then loads the CLI.
require(bundle);
