#!/usr/bin/env bash
# Peak memory of the sftgen quickstart by input size: builds the sftgen
# binary once, then runs the builtin arithmetic generator (simulated teacher,
# embedded Prism) at each size into a fresh output directory, and prints one
# row per size: prompts, peak RSS (MB, from /usr/bin/time -v: the whole
# process, runner and workers included), wall seconds, files in the teacher
# cache, and the RSS ratio to the first size. Exits 1 if a run fails.
#
#   bench/memory.sh                  # 10000 and 100000 prompts
#   bench/memory.sh 10000 100000 1000000
#
# Goals (issue 11): 100k <= 1.5x the RSS of 10k; 1M under 2 GB.
#
# Measured on a 2-core machine shared with other builds (load average ~6-20):
#   before (121c0ac, one cache file per sample, shards gathered by GBK):
#     10k 574 MB 70 s 39,984 cache files; 100k 5,173 MB 992 s 398,648 files
#   after the part-file writer and the packed cache:
#     10k 562 MB 44 s 1 cache file;        100k 5,434 MB 506 s 1 file
#   main with near-dup detection (dedup.near report, the default) at 20k:
#     4,601 MB 73 s (dedup.near off: 1,128 MB 32 s)
#   after rows written where made, tallies summed per bundle, near-dup
#   buckets in two passes (branch scale):
#     20k 779 MB 13 s (dedup.near off: 302 MB 13 s)
#     10k 475 MB 9 s 1 file;               100k 4,676 MB 95 s 1 file (9.8x)
# The goal is not met. What holds the memory (heap profiles, pprof, of the
# embedded runner, which runs in this process; Prism v2.77.0 source,
# runners/prism/internal): Prism fuses chains of DoFns into one stage, but
# a Flatten or GroupByKey ends one, and between stages it keeps every
# element of the PCollection in memory (engine.ElementManager, ~160 bytes
# of bookkeeping per element, and per key of a GroupByKey ~0.8 KB of
# trigger state and heaps), copies a bundle's whole input into one gRPC
# message (DataAndTimerInputForBundle, bytes.Join in worker.B.ProcessOn),
# and holds a bundle's whole output until it ends (TentativeData, then
# PersistBundle). An ordinary stage's bundle is all its pending input
# (buildEventTimeBundle takes ss.pending; Config.MaxBundleSize is unused),
# and splits happen only when a bundle makes no progress. So on Prism
# memory grows with every byte that crosses a stage boundary, several
# times over; nothing bounds it but sending less. What still crosses, per
# prompt, at 100k: the exact-dedup GroupByKey (the prompt, ~180 bytes, one
# key each), the near-dup first pass (20 entries of 26 bytes: ~500 MB of
# element bookkeeping at 100k) and the near-dup member join (a member,
# ~570 bytes, through CoGroupByKey's Flatten and GroupByKey: the 100k peak,
# ~900 MB of Prism buffers at the end of the run).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(10000 100000)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
go build -o "$work/sftgen" ./pipelines/sftgen
printf '%-10s %10s %8s %12s %8s\n' prompts peak-MB wall-s cache-files ratio
base=
for n in "${sizes[@]}"; do
	out="$work/out-$n"
	if ! /usr/bin/time -v -o "$work/time-$n" "$work/sftgen" --input="builtin:arithmetic?n=$n" --output="$out" >"$work/log-$n" 2>&1; then
		echo "run of $n prompts failed:" >&2
		tail -20 "$work/log-$n" >&2
		exit 1
	fi
	kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/time-$n")
	wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/time-$n" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
	files=$(find "$out/.cache" -type f 2>/dev/null | wc -l)
	mb=$((kb / 1024))
	[ -z "$base" ] && base=$mb
	printf '%-10s %10d %8.1f %12d %8.2f\n' "$n" "$mb" "$wall" "$files" "$(echo "$mb / $base" | bc -l)"
	rm -rf "$out"
done
