"""Times lm-evaluation-harness's Janitor (its pure-Python path, 13-grams)
on the texts that decontam's BenchmarkCheck checks.

    python3 janitor_bench.py JANITOR_PY TEXTS_DIR ROUNDS

JANITOR_PY is lm_eval/decontamination/janitor.py taken from a fetched
lm-evaluation-harness (bench/janitor.sh extracts it; nothing of it is kept
in this repository). TEXTS_DIR holds <set>.jsonl files of JSON strings
written by decontam's TestWriteBenchTexts, and contaminants.jsonl, the
benchmark questions Janitor registers (untimed). For each set it prints
one line: janitor <set> <MB/s> MB/s <MB/cpu-s> MB/cpu-s, the best of
ROUNDS runs (on a shared machine the least disturbed run is the closest to
the code's own speed), counting UTF-8 bytes as the Go benchmark does.
"""
import contextlib
import importlib.util
import io
import json
import os
import sys
import time

SETS = ["clean-prompts", "clean-docs-10KB", "clean-docs-50KB", "benchmark-questions"]


def load_janitor(path):
    spec = importlib.util.spec_from_file_location("janitor", path)
    mod = importlib.util.module_from_spec(spec)
    # Without its C++ helper the module prints a warning and a traceback on
    # import; the pure-Python path is the one timed here.
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        spec.loader.exec_module(mod)
    return mod


def read(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main():
    janitor_py, texts_dir, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3])
    mod = load_janitor(janitor_py)
    jan = mod.Janitor(ngram_n=13)
    for q in read(os.path.join(texts_dir, "contaminants.jsonl")):
        jan.register_contaminant_python(q)
    for name in SETS:
        texts = read(os.path.join(texts_dir, name + ".jsonl"))
        size = sum(len(t.encode("utf-8")) for t in texts)
        best_wall = best_cpu = float("inf")
        for _ in range(rounds):
            w0, c0 = time.perf_counter(), time.process_time()
            for t in texts:
                jan.clean_python(t)
            best_wall = min(best_wall, time.perf_counter() - w0)
            best_cpu = min(best_cpu, time.process_time() - c0)
        # Untimed: how many texts hold a registered 13-gram (clean_python
        # also drops clean texts under 200 characters, so its output does
        # not tell).
        flagged = sum(
            1 for t in texts
            if any(jan.normalize_string(g) in jan.dirt_ngrams for g, _ in mod.word_ngrams_indices(t, 13)))
        print(f"janitor {name} {size / 1e6 / best_wall:.2f} MB/s {size / 1e6 / best_cpu:.2f} MB/cpu-s "
              f"({len(texts)} texts, {flagged} with a benchmark 13-gram)")


if __name__ == "__main__":
    main()
