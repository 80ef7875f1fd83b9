#!/usr/bin/env bash
# Parquet writing, ours next to DuckDB's, on the same 50,000 SFT rows of real
# teacher output in one run: BenchmarkParquetWrite (transforms/release)
# writes them with the release encoder (from JSON, as the pipeline does,
# and from decoded records) and leaves them as JSON lines; then DuckDB
# (npm @duckdb/node-api, installed with `npm install --prefix .ci`) loads
# them into a table, untimed, and times COPY ... (FORMAT parquet,
# COMPRESSION zstd), with all threads and with one. Prints rows/s and our
# ratio to DuckDB's, by wall time and by CPU time (user + system of the
# process: on a machine shared with others, wall time mostly measures them).
# Goal (issue 11): >= 0.8x DuckDB's rows/s.
#
#   bench/parquet.sh [benchtime]     # default 3x
#
# Figures (2026-12-01, shared 2-core machine at load average ~8; DuckDB's
# own figures moved by 2x between runs, so read ratios from one run).
# Before (263aa19) and after dictionary pages and goccy/go-json, one run:
#
#   rows/cpu-s        before    after   duckdb 2 threads / 1 thread
#   from-json          21251    74701     123456 / 96453
#   from-records       59139   455194
#
# (from-json/DuckDB there: 0.33-0.50x wall, 0.61-0.77x CPU), and this
# script after, in another run: from-records vs DuckDB 0.83-1.16x wall,
# 1.6-2.2x CPU (goal met for the encoder); from-json 0.27-0.37x wall,
# 0.32-0.45x CPU (goal not met: decoding the rows' JSON, ~10 us a row of
# backslash-heavy LaTeX, is now most of the time). The file is
# 0.70 MB (13.9 MB before; DuckDB's 0.12 MB): the 50,000 rows repeat 480
# recorded responses, which dictionary pages write once per row group.
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-3x}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
[ -d .ci/node_modules/@duckdb/node-api ] || npm install --prefix .ci >/dev/null
SYLLABUS_BENCH_ROWS="$work/rows.jsonl" go test ./transforms/release/ -run '^$' -bench 'ParquetWrite' -benchtime "$benchtime" -count 1 | tee "$work/go.txt" >&2
node bench/duckdb_parquet.mjs "$work/rows.jsonl" "$work/duckdb.parquet" 3 | tee "$work/duckdb.txt" >&2
awk '
/^BenchmarkParquetWrite\// { name = $1; sub(/^BenchmarkParquetWrite\//, "", name); sub(/-[0-9]+$/, "", name); for (i = 3; i < NF; i++) { if ($(i+1) == "rows/s") ours[name] = $i; if ($(i+1) == "rows/cpu-s") ourscpu[name] = $i } }
/^duckdb / { for (i = 3; i < NF; i++) { if ($i == "rows/s") duck[$2] = $(i+1); if ($i == "rows/cpu-s") duckcpu[$2] = $(i+1) } }
END {
	for (d in duck) for (o in ours) printf "syllabus %-13s vs duckdb %-10s  wall: %7.0f / %7.0f rows/s = %.2f   cpu: %7.0f / %7.0f rows/cpu-s = %.2f\n", o, d, ours[o], duck[d], ours[o] / duck[d], ourscpu[o], duckcpu[d], ourscpu[o] / duckcpu[d]
}' "$work/go.txt" "$work/duckdb.txt" | sort
