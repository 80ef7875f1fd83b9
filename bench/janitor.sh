#!/usr/bin/env bash
# decontam's Check next to lm-evaluation-harness's Janitor (pure Python,
# 13-grams, the decontaminator lm-eval ships) on the same texts in one run:
# clean GSM8K-train prompts, 10 and 50 KB documents made of them, and
# benchmark questions (every one contaminated), as BenchmarkCheck builds
# them. Janitor registers every question of the benchmark excerpts in
# decontam/testdata (untimed); decontam uses its built-in fingerprints of
# the full sets. Both run on one core; MB/cpu-s divides by the CPU time the
# process used (on a machine shared with others, wall time mostly measures
# them), best of the rounds for each. Goal (issue 10): ours >= 20x.
#
# lm-eval is not pip-installable here; fetch it as a git mirror and name
# its git directory (nothing of it is copied into this repository: its
# janitor.py is extracted to a temporary directory):
#
#   LMEVAL_GIT=/path/to/lm-evaluation-harness/.git bench/janitor.sh [rounds]   # default 3
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LMEVAL_GIT:?set LMEVAL_GIT to the git directory of a fetched EleutherAI/lm-evaluation-harness}"
rounds=${1:-3}
command -v python3 >/dev/null || { echo "janitor.sh: python3 is needed to run Janitor" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
git --git-dir="$LMEVAL_GIT" show HEAD:lm_eval/decontamination/janitor.py >"$work/janitor.py"
echo "lm-eval $(git --git-dir="$LMEVAL_GIT" rev-parse --short HEAD), $(python3 --version)" >&2
mkdir "$work/texts"
DECONTAM_BENCH_TEXTS="$work/texts" go test ./decontam -run '^TestWriteBenchTexts$' -count 1 >/dev/null
go test ./decontam -run '^$' -bench '^BenchmarkCheck$' -cpu 1 -benchtime 1s -count "$rounds" | tee "$work/go.txt" >&2
python3 bench/janitor/janitor_bench.py "$work/janitor.py" "$work/texts" "$rounds" | tee "$work/janitor.txt" >&2
awk '
/^BenchmarkCheck\// { name = $1; sub(/^BenchmarkCheck\//, "", name); sub(/-[0-9]+$/, "", name); for (i = 3; i < NF; i++) { if ($(i+1) == "MB/s" && $i > wall[name]) wall[name] = $i; if ($(i+1) == "MB/cpu-s" && $i > cpu[name]) cpu[name] = $i } }
/^janitor / { order[++k] = $2; jwall[$2] = $3; jcpu[$2] = $5 }
END {
	printf "%-20s %28s %32s\n", "", "wall MB/s: ours / janitor", "per core MB/cpu-s: ours / janitor"
	for (j = 1; j <= k; j++) { n = order[j]; printf "%-20s %9.1f / %5.2f = %5.0fx %12.1f / %5.2f = %5.0fx\n", n, wall[n], jwall[n], wall[n] / jwall[n], cpu[n], jcpu[n], cpu[n] / jcpu[n] }
}' "$work/go.txt" "$work/janitor.txt"
