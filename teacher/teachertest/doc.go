// Package teachertest holds test servers for the teacher package's
// clients: a vLLM-style /pooling reward server that serves scores from a
// table, with fault injection. It is for tests only; it imports schemas
// and the standard library.
package teachertest
