// Command asmgen writes the amd64 assembly of package kernels. Each .s file
// is built here from loops over its unrolled tiles and named registers, so
// a tile size or a register assignment is one change in one place; the .s
// files are never edited by hand. Run it with `go generate` in
// internal/kernels; CI checks that the committed files match its output.
package main

import (
	"flag"
	"log"
	"os"
	"path/filepath"
)

func main() {
	dir := flag.String("dir", ".", "folder to write the .s files into")
	flag.Parse()
	log.SetFlags(0)
	log.SetPrefix("asmgen: ")

	for _, f := range files() {
		if err := os.WriteFile(filepath.Join(*dir, f.name), f.b.Bytes(), 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// files builds every .s file.
func files() []*file {
	avx2 := sgemmFile("sgemm_amd64.s", tileAVX2)
	packFuncs(avx2)
	return []*file{
		avx2,
		sgemmFile("sgemm512_amd64.s", tileAVX512),
		sgemmRowFile(),
		winoFile(),
		convFile(),
		actBNFile(),
		actFile(),
		poolFile(),
	}
}
