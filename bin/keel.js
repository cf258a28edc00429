#!/usr/bin/env node
// The `keel` command: a thin launcher for the bundled CLI (build it with `npm run build`).
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const bundle = path.join(__dirname, '..', 'dist', 'keel.js');
if (!fs.existsSync(bundle)) {
  process.stderr.write('keel: the CLI is not built yet. Run `npm run setup` in ' + path.join(__dirname, '..') + '\n');
  process.exit(2);
}
require(bundle);
