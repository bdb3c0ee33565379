#!/usr/bin/env node
// SPDX-License-Identifier: Apache-2.0
//
// A stand-in for the native `solc` binary, driving the npm `solc` package (solcjs) from
// ./node_modules, for py-solc-x's `compile_standard(..., solc_binary=<this file>)`.
//
// Only two modes are answered, in the native binary's format:
//   --version          two lines, "solc, the solidity compiler commandline interface" and
//                      "Version: <solc.version()>" (py-solc-x parses the second)
//   --standard-json    Standard JSON input on stdin, Standard JSON output on stdout, nothing else
//                      (solcjs's own CLI prints a ">>>" banner first, which py-solc-x cannot parse)
// Other flags py-solc-x may add (--base-path, --allow-paths) are accepted and ignored: imports
// are resolved by the callback below.
//
// Imports resolve relative to this file's location, never the working directory: first in
// hardhat_local/node_modules (for "@openzeppelin/..."), then from the repository root (source
// unit names such as "contracts/Foo.sol"), then from contracts/.
'use strict';

const fs = require('fs');
const path = require('path');

const HERE = __dirname;
const NODE_MODULES = path.join(HERE, 'node_modules');
const REPO_ROOT = path.resolve(HERE, '..');
const CONTRACTS = path.join(REPO_ROOT, 'contracts');
const SEARCH_ROOTS = [NODE_MODULES, REPO_ROOT, CONTRACTS];

function loadSolc() {
  try {
    return require(path.join(NODE_MODULES, 'solc'));
  } catch (err) {
    process.stderr.write(
      `solc-wrapper: cannot load the npm "solc" package from ${NODE_MODULES} ` +
        `(run: cd hardhat_local && npm ci): ${err.message}\n`
    );
    process.exit(2);
  }
}

function findImport(importPath) {
  if (path.isAbsolute(importPath) || importPath.split(/[\\/]/).includes('..')) {
    return { error: `import "${importPath}" must be a relative path without ".."` };
  }
  for (const root of SEARCH_ROOTS) {
    const candidate = path.join(root, importPath);
    if (candidate.startsWith(root + path.sep) && fs.existsSync(candidate)) {
      return { contents: fs.readFileSync(candidate, 'utf8') };
    }
  }
  return { error: `import "${importPath}" not found under ${SEARCH_ROOTS.join(', ')}` };
}

function readStdin() {
  return fs.readFileSync(0, 'utf8');
}

function main(argv) {
  if (argv.includes('--version')) {
    const solc = loadSolc();
    process.stdout.write(
      `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`
    );
    return 0;
  }
  if (argv.includes('--standard-json')) {
    const solc = loadSolc();
    const output = solc.compile(readStdin(), { import: findImport });
    process.stdout.write(output + '\n');
    return 0;
  }
  process.stderr.write(
    `unrecognised option '${argv[0] || ''}': ` +
      'solc-wrapper answers only --version and --standard-json\n'
  );
  return 1;
}

process.exitCode = main(process.argv.slice(2));
