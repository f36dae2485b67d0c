package classifier_test

import (
	"fmt"
	"image"

	"github.com/fmnist/fmnist/classifier"
	"github.com/fmnist/fmnist/imageprep"
)

// Load a model file and classify a picture: here a blank 28×28 one, with a
// small CNN that PyTorch wrote.
func Example() {
	c, err := classifier.Load("../model/testdata/torch_cnn.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Kind(), c.Params(), "parameters,", len(c.ClassNames()), "classes")

	img := image.NewGray(image.Rect(0, 0, 28, 28))
	p, err := c.ClassifyImage(img, imageprep.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	sum := 0.0
	for _, pr := range p.Probs {
		sum += pr
	}
	top := p.Top(3)
	fmt.Printf("%d probabilities summing to %.3f; top 3 of them, most probable first: %v\n",
		len(p.Probs), sum, top[0].Prob >= top[1].Prob && top[1].Prob >= top[2].Prob)
	fmt.Println("the model saw", len(p.Prepared.Pixels), "pixels")
	// Output:
	// cnn 1774 parameters, 10 classes
	// 10 probabilities summing to 1.000; top 3 of them, most probable first: true
	// the model saw 784 pixels
}

// A batch of 28×28 images as bytes, light on dark as in Fashion-MNIST.
func ExampleClassifier_ClassifyPixels() {
	c, err := classifier.Load("../model/testdata/torch_mlp.safetensors")
	if err != nil {
		fmt.Println(err)
		return
	}
	px := make([]uint8, 3*classifier.Pixels) // three black images
	preds, err := c.ClassifyPixels(px)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(len(preds), "predictions of", len(preds[0].Probs), "classes")
	_, err = c.ClassifyPixels(px[:100])
	fmt.Println(err)
	// Output:
	// 3 predictions of 10 classes
	// classifier: bad input: 100 pixels, not a multiple of 784
}
