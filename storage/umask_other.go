//go:build !unix

package storage

const processUmask = 0o022
