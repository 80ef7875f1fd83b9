// Package transforms wires the plain-Go stages of syllabus (teacher, filters,
// decontam) into Apache Beam composite transforms, and writes releases:
// Parquet shards, the manifest, the dataset card and the LATEST marker.
//
// Beam lives only here and in pipelines/. Every DoFn routes a per-record
// problem to the dead-letter output instead of returning an error, because an
// error fails the whole job on Prism and restarts a whole task on Flink.
package transforms
