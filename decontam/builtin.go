package decontam

import (
	"bytes"
	_ "embed"
	"fmt"
	"io/fs"
	"sync"
)

//go:generate go run ./cmd/fingerprints -benchmarks ../../shared/benchmarks -out fingerprints.bin

// builtinFingerprints are the fingerprints of ../shared/benchmarks, made by
// cmd/fingerprints. They hold hashes and item ids, no benchmark text.
//
//go:embed fingerprints.bin
var builtinFingerprints []byte

var builtinOnce = sync.OnceValues(func() (*fingerprints, error) {
	return readFingerprints(bytes.NewReader(builtinFingerprints))
})

// Builtin returns an index over the embedded fingerprints of the standard
// math benchmarks (see KnownBenchmarks): offline, nothing to download.
// cfg.NgramSize must be the size they were made with (the default).
func Builtin(cfg Config) (*Index, error) {
	fp, err := builtinOnce()
	if err != nil {
		return nil, fmt.Errorf("decontam: built-in fingerprints: %w", err)
	}
	return build(fp, cfg)
}

// Open returns the index a run decontaminates against: the built-in sets if
// cfg.Builtin, then every set under benchmarksDir if it is not empty (the
// --benchmarks flag), then the recipe's cfg.Benchmarks. Both are read through
// fsys, which may be a storage.FS view of an S3 prefix; nil means the local
// file system, paths as written. A later set replaces an
// earlier one of the same name.
func Open(cfg Config, benchmarksDir string, fsys fs.FS) (*Index, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	fp := &fingerprints{n: cfg.NgramSize}
	if cfg.Builtin {
		b, err := builtinOnce()
		if err != nil {
			return nil, fmt.Errorf("decontam: built-in fingerprints: %w", err)
		}
		fp = b
	}
	var sets []Benchmark
	if benchmarksDir != "" {
		dir := osDirFS(benchmarksDir)
		if fsys != nil {
			sub, err := fs.Sub(fsys, benchmarksDir)
			if err != nil {
				return nil, fmt.Errorf("decontam: benchmarks %s: %w", benchmarksDir, err)
			}
			dir = sub
		}
		s, err := ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("decontam: benchmarks %s: %w", benchmarksDir, err)
		}
		sets = append(sets, s...)
	}
	for _, spec := range cfg.Benchmarks {
		var b Benchmark
		var err error
		if fsys == nil {
			b, err = ReadLocalBenchmark(spec)
		} else {
			b, err = ReadBenchmark(fsys, spec)
		}
		if err != nil {
			return nil, err
		}
		sets = append(sets, b)
	}
	if len(sets) > 0 {
		merged, err := fp.merge(fingerprint(sets, cfg.NgramSize))
		if err != nil {
			return nil, err
		}
		fp = merged
	}
	return build(fp, cfg)
}
