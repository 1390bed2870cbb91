// cron_bench.js - the same work as bench_cron.c with npm cron-parser: per
// vector of tests/oracle/cron_vectors.txt, parse the expression in its zone
// and take five next() times. A third argument "oracle" keeps only the
// vectors cron-parser gets right. Prints "node <vectors/s> ...".
'use strict';
const fs = require('fs');
const path = require('path');
const root = path.join(__dirname, '..');
const { CronExpressionParser } = require(path.join(root, 'tests/oracle/node_modules/cron-parser'));

const file = process.argv[2] || path.join(root, 'tests/oracle/cron_vectors.txt');
const minTime = Number(process.argv[3] || 2);
const oracleOnly = process.argv[4] === 'oracle';
const vecs = fs.readFileSync(file, 'utf8').split('\n')
  .filter((l) => l.startsWith('V\t') && (!oracleOnly || l.startsWith('V\toracle\t')))
  .map((l) => { const f = l.split('\t'); return { expr: f[2], tz: f[3], from: new Date(f[4]) }; });

let rounds = 0, sink = 0;
const t0 = process.hrtime.bigint();
let el = 0;
do {
  for (const v of vecs) {
    try {
      const it = CronExpressionParser.parse(v.expr, { currentDate: v.from, tz: v.tz });
      for (let k = 0; k < 5; k++) sink += it.next().getTime() & 1;
    } catch (e) { sink++; } // cron-parser fails a few DST vectors (see gen_vectors.js)
  }
  rounds++;
  el = Number(process.hrtime.bigint() - t0) / 1e9;
} while (el < minTime);
console.log(`node ${(vecs.length * rounds / el).toFixed(0)} vectors/s (${vecs.length} vectors x ${rounds} rounds in ${el.toFixed(2)} s, 5 next each)${sink < 0 ? '!' : ''}`);
