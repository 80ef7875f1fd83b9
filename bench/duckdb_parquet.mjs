// DuckDB's side of bench/parquet.sh: loads the SFT rows (JSON lines) into a
// table, untimed, then times COPY ... TO (FORMAT parquet, COMPRESSION zstd)
// and prints rows per second, with all threads and with one.
//
//   node bench/duckdb_parquet.mjs rows.jsonl out.parquet [runs]
import { createRequire } from 'node:module';

// The DuckDB package lives with the CI's readers, in .ci/node_modules.
const require = createRequire(new URL('../.ci/package.json', import.meta.url));
const { DuckDBInstance } = await import(require.resolve('@duckdb/node-api'));

const [rowsPath, outPath, runsArg] = process.argv.slice(2);
const runs = Number(runsArg || 3);
const quote = (p) => `'${p.replaceAll("'", "''")}'`;
const db = await DuckDBInstance.create(':memory:');
const conn = await db.connect();
await conn.run(`CREATE TABLE sft AS SELECT * FROM read_json(${quote(rowsPath)}, format = 'newline_delimited')`);
const n = Number((await conn.runAndReadAll('SELECT count(*) AS n FROM sft')).getRowObjectsJS()[0].n);
for (const threads of [0, 1]) {
  if (threads > 0) await conn.run(`SET threads = ${threads}`);
  const label = threads > 0 ? `threads=${threads}` : `threads=${(await conn.runAndReadAll("SELECT current_setting('threads') AS t")).getRowObjectsJS()[0].t}`;
  // On a shared machine wall time measures the neighbours; CPU time (user
  // + system, every DuckDB thread: they are this process's) the work.
  let best = Infinity;
  const cpu0 = process.cpuUsage();
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    await conn.run(`COPY sft TO ${quote(outPath)} (FORMAT parquet, COMPRESSION zstd)`);
    best = Math.min(best, Number(process.hrtime.bigint() - t0) / 1e9);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuPerRun = (cpu.user + cpu.system) / 1e6 / runs;
  console.log(`duckdb ${label} rows ${n} best-s ${best.toFixed(3)} cpu-s ${cpuPerRun.toFixed(3)} rows/s ${Math.round(n / best)} rows/cpu-s ${Math.round(n / cpuPerRun)}`);
}
