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
# Measured on a 2-core machine shared with other builds (load average ~20):
#   before (121c0ac, one cache file per sample, shards gathered by GBK):
#     10k 574 MB 70 s 39,984 cache files; 100k 5,173 MB 992 s 398,648 files
#   after the part-file writer and the packed cache:
#     10k 562 MB 44 s 1 cache file;        100k 5,434 MB 506 s 1 file
# so the write stage was not what holds memory at 100k: the goal is not met.
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
