#!/usr/bin/env bash
# Saturation of the sftgen pipeline against the simulated teacher: runs
# BenchmarkSFTGenSaturation (transforms/saturation_bench_test.go) and prints
# one row per case. Utilization is measured by the server: busy slot-seconds
# / (C × span from the first request's arrival to the last completion); the
# target is >= 0.98. Exits 1 if a case misses it.
#
#   bench/saturation.sh                 # every case, one run each (~1.5 min)
#   bench/saturation.sh 'C=32/' 3x      # a subset, three runs averaged
set -euo pipefail
cd "$(dirname "$0")/.."
filter=${1:-}
benchtime=${2:-1x}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test ./transforms/ -run '^$' -bench "SFTGenSaturation/${filter}" -benchtime "$benchtime" -count 1 2>&1 | grep -v 'level=' | tee "$out" >&2
awk -v target=0.98 '
/^BenchmarkSFTGenSaturation\// {
	name = $1; sub(/^BenchmarkSFTGenSaturation\//, "", name); sub(/-[0-9]+$/, "", name)
	delete m
	for (i = 3; i < NF; i += 2) m[$(i+1)] = $i
	rows[++n] = sprintf("%-20s %11.4f %9.1f %10.0f %8.2f %8.2f %15d %8d %7d  %s",
		name, m["utilization"], m["req/s"], m["rampup-ms"], m["span-s"], m["wall-s"],
		m["min-outstanding"], m["bundles"], m["splits"], (m["utilization"] >= target ? "ok" : "LOW"))
	if (m["utilization"] < target) low = 1
}
END {
	if (n == 0) { print "no benchmark results" > "/dev/stderr"; exit 2 }
	printf "\n%-20s %11s %9s %10s %8s %8s %15s %8s %7s  %s\n", "case", "utilization", "req/s", "rampup-ms", "span-s", "wall-s", "min-outstanding", "bundles", "splits", ">=" target
	for (i = 1; i <= n; i++) print rows[i]
	exit low
}' "$out"
