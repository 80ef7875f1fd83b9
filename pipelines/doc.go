// Package pipelines holds one main package per pipeline: sftgen (prompts to a
// released SFT/preference dataset), decontam and grade. Each main parses flags
// into a config, validates it and hands it to a graph builder in transforms.
package pipelines
