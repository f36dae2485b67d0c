package dataset_test

import (
	"fmt"

	"github.com/fmnist/fmnist/dataset"
)

// A small set made up for the example: 100 items, ten of each class.
func exampleSet() *dataset.Set {
	images := make([]uint8, 100*dataset.Pixels)
	labels := make([]uint8, 100)
	for i := range labels {
		labels[i] = uint8(i % dataset.Classes)
		images[i*dataset.Pixels+i%dataset.Pixels] = 255
	}
	s, err := dataset.NewSet(images, labels)
	if err != nil {
		panic(err)
	}
	return s
}

func ExampleSplit() {
	train, val, err := dataset.Split(exampleSet(), 20, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(train.ImageShape(), train.LabelShape())
	fmt.Println(val.ImageShape(), val.ClassCounts())
	// Output:
	// [80 28 28] [80]
	// [20 28 28] [2 2 2 2 2 2 2 2 2 2]
}

func ExampleNewLoader() {
	train := exampleSet()
	mean, std := dataset.Stats(train)
	l := dataset.NewLoader(train, dataset.LoaderConfig{
		Batch: 32, Shuffle: true, Seed: 1,
		Mean: float32(mean), Std: float32(std),
		Augment: dataset.Augment{Pad: 2, Flip: true},
	})
	for e := range 2 {
		l.Epoch(e)
		for {
			x, y, ok := l.Next()
			if !ok {
				break
			}
			fmt.Println(e, x, len(y))
		}
	}
	// Output:
	// 0 (32, 28, 28, 1) float32 32
	// 0 (32, 28, 28, 1) float32 32
	// 0 (32, 28, 28, 1) float32 32
	// 0 (4, 28, 28, 1) float32 4
	// 1 (32, 28, 28, 1) float32 32
	// 1 (32, 28, 28, 1) float32 32
	// 1 (32, 28, 28, 1) float32 32
	// 1 (4, 28, 28, 1) float32 4
}
