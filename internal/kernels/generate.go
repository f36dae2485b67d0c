package kernels

// The assembly is generated; edit the generators, not the .s files. CI runs
// `go generate ./...` and fails if the committed files differ from their
// output.
//
// asmgen writes every *_amd64.s file; sgemm_arm64_gen.go the NEON kernel.
//
//go:generate go run ./asmgen
//go:generate go run sgemm_arm64_gen.go
