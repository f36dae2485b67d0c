package checkpoint_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fmnist/fmnist/checkpoint"
)

func Example() {
	dir, err := os.MkdirTemp("", "checkpoint")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "mlp.safetensors")

	f := &checkpoint.File{
		Tensors: []checkpoint.Tensor{
			{Name: "fc.weight", DType: "F32", Shape: []int{2, 2}, F32: []float32{1, 2, 3, 4}},
			{Name: "bn.num_batches_tracked", DType: "I64", Shape: []int{}, I64: []int64{100}},
		},
		Metadata: map[string]string{"kind": "mlp"},
	}
	if err := checkpoint.Write(path, f); err != nil {
		log.Fatal(err)
	}
	g, err := checkpoint.Read(path)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range g.Tensors {
		fmt.Println(t.Name, t.DType, t.Shape, t.F32, t.I64)
	}
	fmt.Println(g.Metadata["kind"], g.Metadata["format"], len(g.Metadata["checksum"]))
	// Output:
	// fc.weight F32 [2 2] [1 2 3 4] []
	// bn.num_batches_tracked I64 [] [] [100]
	// mlp fmnist/2 64
}
