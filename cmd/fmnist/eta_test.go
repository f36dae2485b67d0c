package main

import (
	"testing"
	"time"

	"github.com/fmnist/fmnist/fit"
	"github.com/fmnist/fmnist/pipeline"
)

// The figures of `fmnist run --seed 3` (default preset, 2-core Zen 5,
// alone): the MLP trained at ~10500 img/s and its 40 epochs took 178 s, the
// CNN's 30 took 1495 s, cnn_mlp's 20 took 31 s. Halfway through the MLP's
// first epoch, with only the MLP's speed known, the guessed time left
// must be within a third of the real one (it was 1h39m against 28m once,
// when the CNN borrowed the MLP's seconds per MAC as they were).
func TestETAGuessFromMLP(t *testing.T) {
	cfg := pipeline.DefaultConfig()
	eta := &runETA{stages: planStages(cfg, pipeline.Stages, 50000, 10000, 10000)}
	steps := 391
	p := fit.Progress{Model: "mlp", Epoch: 1, Epochs: 40, Step: 195, Steps: steps, Images: 195 * 128}
	p.Elapsed = time.Duration(float64(p.Images) / 10500 * float64(time.Second))
	eta.observe(p)
	left, guess, ok := eta.left(p)
	if !ok || !guess {
		t.Fatalf("left %v guess %v ok %v: want a guess", left, guess, ok)
	}
	real := (178.0 - 2.4 + 1495 + 31) * float64(time.Second)
	if r := float64(left) / real; r < 0.67 || r > 1.5 {
		t.Errorf("guessed %v left, the run took %v more: ratio %.2f", left, time.Duration(real).Round(time.Second), r)
	}
}
