package classifier_test

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/pipeline"
)

// BenchmarkBatch times the default CNN (untrained: the weights do not
// change the time) on batches of 1 to 32 images, in images per second:
// what a micro-batch of the server can gain over passes of one image.
func BenchmarkBatch(b *testing.B) {
	m, err := nn.Build(pipeline.DefaultConfig().CNN.Spec, 1)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "cnn.safetensors")
	if err := model.SaveModel(path, m, map[string]string{"pixel_mean": "0.286", "pixel_std": "0.353"}); err != nil {
		b.Fatal(err)
	}
	c, err := classifier.LoadOptions(path, classifier.Options{Replicas: 1})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 4, 16, 32} {
		px := randomPixels(n, 1)
		b.Run(fmt.Sprintf("cnn/%d", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := c.ClassifyPixels(px); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "img/s")
		})
	}
}
