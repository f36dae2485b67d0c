package nn_test

import (
	"fmt"

	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// A model is built from a Spec and a seed; its state dict carries PyTorch's
// names and layouts.
func ExampleBuild() {
	s, _ := nn.RefSpec("mlp-ref")
	m, err := nn.Build(s, 42)
	if err != nil {
		panic(err)
	}
	for _, t := range m.StateDict() {
		fmt.Println(t.Name, tensor.ShapeString(t.Shape))
	}
	_, err = nn.Build(nn.Spec{Kind: "rnn"}, 0)
	fmt.Println(err)
	// Output:
	// 1.weight (512, 784)
	// 1.bias (512,)
	// 3.weight (256, 512)
	// 3.bias (256,)
	// 5.weight (10, 256)
	// 5.bias (10,)
	// nn: unknown model kind "rnn"
}

// One training step: forward, loss, backward; an optimiser then reads each
// Param's Grad.
func ExampleModel_Backward() {
	m, _ := nn.Build(nn.Spec{Kind: "cnn", Widths: []int{4, 8}, PoolAfter: []int{0}, BatchNorm: true}, 1)
	x := tensor.New(2, 28, 28, 1)
	loss := &nn.SoftmaxCrossEntropy{Smoothing: 0.1}
	l, _, dlogits := loss.Forward(m.Forward(x, true), []uint8{3, 7})
	m.Backward(dlogits)
	fmt.Printf("loss %.4f, %d parameter tensors\n", l, len(m.Params()))
	// Output:
	// loss 2.3026, 8 parameter tensors
}
