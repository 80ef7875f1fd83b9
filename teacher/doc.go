// Package teacher talks to OpenAI-compatible inference servers (vLLM, SGLang,
// TGI, llama.cpp, Ollama, hosted APIs) that write the rationales syllabus
// verifies. It also holds the simulated teacher and the replay server that
// tests and the offline quickstart run against, speaking the same wire format.
package teacher
