package fit_test

import (
	"fmt"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/nn"
)

// Training an MLP on 2,000 Fashion-MNIST images for three epochs, with a
// hook that sees every epoch's record. The data comes from where `fmnist`
// finds it (here offline: $FMNIST_DATA, the cache or Debian's package).
func Example() {
	f, err := dataset.Load(dataset.Options{Offline: true})
	if err != nil {
		fmt.Println(err)
		return
	}
	train, val, err := dataset.Split(f.Train, 10000, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	train = train.Subset(2000)
	mean, std := dataset.Stats(train)
	norm := func(set *dataset.Set, shuffle bool) *dataset.Loader {
		return dataset.NewLoader(set, dataset.LoaderConfig{Batch: 100, Shuffle: shuffle, Seed: 1,
			Mean: float32(mean), Std: float32(std)})
	}
	m, err := nn.Build(nn.Spec{Kind: "mlp", In: dataset.Pixels, Hidden: []int{64}, Classes: dataset.Classes}, 1)
	if err != nil {
		fmt.Println(err)
		return
	}
	cfg := fit.Config{Epochs: 3, Batch: 100, Optimizer: "sgd", LR: 0.1, Schedule: "onecycle", Momentum: 0.9}
	var seen []int
	hooks := fit.Hooks{Epoch: func(r fit.Record) { seen = append(seen, r.Epoch) }}
	res, err := fit.Fit("mlp", m, norm(train, true), norm(val, false), cfg, hooks)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("epochs seen by the hook:", seen)
	fmt.Println("validation accuracy above 70%:", res.BestVal > 0.70)
	// Output:
	// epochs seen by the hook: [1 2 3]
	// validation accuracy above 70%: true
}
