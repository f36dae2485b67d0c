package nn

import "slices"

// Memory is an estimate of the peak bytes a model of a Spec needs, by
// part; every figure is an upper bound rather than a guess in the middle,
// so that a refusal errs on the side of the machine.
type Memory struct {
	Params      float64 // weights, and in training their gradients, optimiser slots and best/averaged copies
	Activations float64 // layer outputs, and in training what the backward pass keeps
	Scratch     float64 // im2col panels and the input batch
}

// Total is the sum of the parts.
func (m Memory) Total() float64 { return m.Params + m.Activations + m.Scratch }

// Copies of the weights while training: value, gradient, two optimiser
// slots (Adam), the best epoch's weights and a moving average.
const trainParamCopies = 6

// Copies of the weights in inference: the value, a convolution's Winograd
// transform (16/9 of its weight) and the copy of the weight it was made
// from, which the layer keeps to reuse it.
const inferParamCopies = 4

// Buffers per activation while training: the output, the gradient that
// flows back, and the pre-activation or mask a layer keeps for backward.
const trainActCopies = 3

// Side of the images a cnn sees.
const imageSide = 28

// MemoryBytes estimates the peak memory of running s on batches of batch
// items: for training when train is set, else for inference. It allocates
// nothing, so it can judge a spec before Build does. It uses float64 so
// that absurd specs give absurd numbers rather than overflow.
func (s Spec) MemoryBytes(batch int, train bool) (Memory, error) {
	s, err := s.Normalize()
	if err != nil {
		return Memory{}, err
	}
	b := float64(batch)
	var params, acts, scratch float64 // in float32 elements; acts and scratch per item
	switch s.Kind {
	case "mlp":
		in := float64(s.In)
		scratch = in
		acts = in // flatten, input dropout mask
		for _, h := range append(slices.Clone(s.Hidden), s.Classes) {
			w := float64(h)
			params += in*w + w
			acts += 2 * w // linear output, then batch norm / ReLU / dropout in place or one more buffer
			if s.BatchNorm {
				params += 4 * w
				acts += w
			}
			in = w
		}
	default: // cnn
		side := float64(imageSide)
		c := float64(s.In)
		scratch = side * side * c
		var im2col float64
		for k, o := range s.Widths {
			w := float64(o)
			params += 9*c*w + w
			if s.BatchNorm {
				params += 4 * w
			}
			im2col = max(im2col, side*side*9*c)
			acts += 2 * side * side * w // conv output, ReLU / batch norm output
			if slices.Contains(s.PoolAfter, k) {
				side = float64(int(side) / 2)
				acts += 2 * side * side * w // pooled output and argmax indices
			}
			c = w
		}
		params += c*float64(s.Classes) + float64(s.Classes)
		acts += 2*c + float64(s.Classes)
		scratch += im2col
	}
	m := Memory{Params: 4 * params, Activations: 4 * b * acts, Scratch: 4 * b * scratch}
	if train {
		m.Params *= trainParamCopies
		m.Activations *= trainActCopies
	} else {
		m.Params *= inferParamCopies
	}
	return m, nil
}
