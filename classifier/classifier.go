package classifier

import (
	"errors"
	"fmt"
	"image"
	"math"
	"runtime"
	"sort"
	"strconv"
	"sync"

	"github.com/fmnist/fmnist/dataset"
	"github.com/fmnist/fmnist/imageprep"
	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/tensor"
)

// Pixels is the number of pixels of one image, 28×28, row-major.
const Pixels = imageprep.Size * imageprep.Size

// DefaultMaxBatch is the default of Options.MaxBatch.
const DefaultMaxBatch = 256

// ErrInput is wrapped by the errors about pixels that are not images: a
// length that is not a multiple of Pixels, or a value outside [0, 1].
var ErrInput = errors.New("classifier: bad input")

// Options tune LoadOptions. The zero value is the default.
type Options struct {
	// Replicas is how many forward passes may run at once, each on its own
	// copy of the model; 0 means GOMAXPROCS.
	Replicas int
	// MaxBatch is the most images in one forward pass; longer batches are
	// cut. 0 means DefaultMaxBatch.
	MaxBatch int
}

// Class is one class of a prediction. Its JSON is the one of
// `fmnist predict --json`.
type Class struct {
	Class int     `json:"class"`
	Name  string  `json:"name"`
	Prob  float64 `json:"prob"`
}

// Prediction is the result for one image.
type Prediction struct {
	Logits []float32 // the model's outputs, one per class
	Probs  []float64 // softmax of Logits, computed in float64
	// Prepared is what imageprep made of a picture: Prepared.Pixels is the
	// 28×28 image the model saw. Nil for pixels given directly.
	Prepared *imageprep.Result
}

// FromLogits returns the prediction of a row of logits: their softmax,
// computed in float64 after subtracting the largest, so that huge logits
// do not overflow.
func FromLogits(logits []float32) Prediction {
	p := Prediction{Logits: append([]float32(nil), logits...), Probs: make([]float64, len(logits))}
	if len(logits) == 0 {
		return p
	}
	hi := logits[0]
	for _, v := range logits {
		hi = max(hi, v)
	}
	var sum float64
	for j, v := range logits {
		p.Probs[j] = math.Exp(float64(v - hi))
		sum += p.Probs[j]
	}
	for j := range p.Probs {
		p.Probs[j] /= sum
	}
	return p
}

// Top returns the k most probable classes, most probable first, ties to
// the lower class.
func (p Prediction) Top(k int) []Class {
	cs := make([]Class, len(p.Probs))
	for j, pr := range p.Probs {
		cs[j] = Class{Class: j, Name: className(j), Prob: pr}
	}
	sort.SliceStable(cs, func(a, b int) bool { return cs[a].Prob > cs[b].Prob })
	return cs[:max(0, min(k, len(cs)))]
}

func className(j int) string {
	if j < len(dataset.ClassNames) {
		return dataset.ClassNames[j]
	}
	return "class " + strconv.Itoa(j)
}

// Classifier classifies images with one saved model. It is safe for
// concurrent use.
type Classifier struct {
	path    string
	kind    string
	meta    map[string]string
	params  int
	classes int
	lut     [256]float32 // pixel byte to model input, as dataset.Loader
	mean    float32
	std     float32
	batch   int

	newReplica func() (nn.Predictor, error)
	sem        chan struct{} // one token per replica that may run
	mu         sync.Mutex
	free       []*replica
}

// replica is one copy of the model with its input buffer.
type replica struct {
	p nn.Predictor
	x *tensor.Tensor
}

// Load reads a model file written by `fmnist run` or `fmnist train`, with
// the default Options.
func Load(path string) (*Classifier, error) { return LoadOptions(path, Options{}) }

// LoadOptions reads a model file of any kind.
func LoadOptions(path string, opt Options) (*Classifier, error) {
	l, err := model.LoadModel(path)
	if err != nil {
		return nil, err
	}
	mean, std, err := model.PixelNorm(l.Meta)
	if err != nil {
		return nil, fmt.Errorf("classifier: %s: %w", path, err)
	}
	if opt.Replicas <= 0 {
		opt.Replicas = runtime.GOMAXPROCS(0)
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = DefaultMaxBatch
	}
	c := &Classifier{path: path, kind: l.Kind, meta: l.Meta, mean: mean, std: std, batch: opt.MaxBatch,
		sem: make(chan struct{}, opt.Replicas)}
	for v := range c.lut {
		c.lut[v] = (float32(v)/255 - mean) / std
	}
	switch {
	case l.CNNMLP != nil:
		s := l.CNNMLP
		c.params = countParams(s.CNN) + countParams(s.MLP)
		c.classes = s.MLP.Spec.Classes
		c.newReplica = func() (nn.Predictor, error) {
			cnn, err := clone(s.CNN)
			if err != nil {
				return nil, err
			}
			head, err := clone(s.MLP)
			if err != nil {
				return nil, err
			}
			return &model.CNNMLP{CNN: cnn, Norm: s.Norm, MLP: head}, nil
		}
	default:
		m := l.Model
		c.params = countParams(m)
		c.classes = m.Spec.Classes
		c.newReplica = func() (nn.Predictor, error) {
			cm, err := clone(m)
			if err != nil {
				return nil, err
			}
			return nn.Eval{Model: cm}, nil
		}
	}
	// The loaded model is the first replica; the others are made on need.
	c.free = append(c.free, &replica{p: l.Predictor})
	return c, nil
}

// clone builds a second model with m's weights and running statistics.
func clone(m *nn.Model) (*nn.Model, error) {
	c, err := nn.Build(m.Spec, 0)
	if err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	if err := c.LoadStateDict(m.StateDict()); err != nil {
		return nil, fmt.Errorf("classifier: %w", err)
	}
	return c, nil
}

func countParams(m *nn.Model) int {
	n := 0
	for _, p := range m.Params() {
		n += p.Value.Len()
	}
	return n
}

// Replicas is how many forward passes may run at once.
func (c *Classifier) Replicas() int { return cap(c.sem) }

// MaxBatch is the most images of one forward pass.
func (c *Classifier) MaxBatch() int { return c.batch }

// Path is the model file's path.
func (c *Classifier) Path() string { return c.path }

// Kind is the model's kind: "mlp", "cnn" or "cnn_mlp".
func (c *Classifier) Kind() string { return c.kind }

// Params is the number of trainable parameters the classifier uses; for a
// cnn_mlp, those of the CNN and of the MLP on its features together.
func (c *Classifier) Params() int { return c.params }

// ClassNames are the names of the model's classes, by index.
func (c *Classifier) ClassNames() []string {
	names := make([]string, c.classes)
	for j := range names {
		names[j] = className(j)
	}
	return names
}

// PixelNorm is the normalisation the model was trained with: an input is
// (v/255 − mean)/std for a pixel byte v.
func (c *Classifier) PixelNorm() (mean, std float32) { return c.mean, c.std }

// Metadata returns a copy of the model file's metadata.
func (c *Classifier) Metadata() map[string]string {
	m := make(map[string]string, len(c.meta))
	for k, v := range c.meta {
		m[k] = v
	}
	return m
}

// TestAccuracy is the test accuracy recorded in the file's metadata (key
// "test_acc"), when there is one.
func (c *Classifier) TestAccuracy() (float64, bool) {
	v, err := strconv.ParseFloat(c.meta["test_acc"], 64)
	if err != nil || !(v >= 0 && v <= 1) {
		return 0, false
	}
	return v, true
}

// ClassifyPixels classifies a batch of 28×28 gray images of bytes, light
// on dark as in Fashion-MNIST, one after the other in px.
func (c *Classifier) ClassifyPixels(px []uint8) ([]Prediction, error) {
	if len(px)%Pixels != 0 {
		return nil, fmt.Errorf("%w: %d pixels, not a multiple of %d", ErrInput, len(px), Pixels)
	}
	return c.run(len(px)/Pixels, func(dst []float32, i int) {
		for j, v := range px[i*Pixels : (i+1)*Pixels] {
			dst[j] = c.lut[v]
		}
	})
}

// ClassifyFloats classifies a batch of 28×28 gray images whose pixels are
// in [0, 1] (a byte v is v/255).
func (c *Classifier) ClassifyFloats(px []float32) ([]Prediction, error) {
	if len(px)%Pixels != 0 {
		return nil, fmt.Errorf("%w: %d pixels, not a multiple of %d", ErrInput, len(px), Pixels)
	}
	for i, v := range px {
		if !(v >= 0 && v <= 1) {
			return nil, fmt.Errorf("%w: pixel %d of image %d is %v, want 0 to 1", ErrInput, i%Pixels, i/Pixels, v)
		}
	}
	return c.run(len(px)/Pixels, func(dst []float32, i int) {
		for j, v := range px[i*Pixels : (i+1)*Pixels] {
			dst[j] = (v - c.mean) / c.std
		}
	})
}

// ClassifyImage prepares a picture as `fmnist predict` does (see
// imageprep) and classifies it.
func (c *Classifier) ClassifyImage(img image.Image, opt imageprep.Options) (Prediction, error) {
	ps, err := c.ClassifyImages([]image.Image{img}, opt)
	if err != nil {
		return Prediction{}, err
	}
	return ps[0], nil
}

// ClassifyImages prepares and classifies a batch of pictures. A picture
// that imageprep refuses fails the whole call, naming its index.
func (c *Classifier) ClassifyImages(imgs []image.Image, opt imageprep.Options) ([]Prediction, error) {
	res := make([]imageprep.Result, len(imgs))
	px := make([]uint8, 0, len(imgs)*Pixels)
	for i, img := range imgs {
		r, err := imageprep.Prepare(img, opt)
		if err != nil {
			return nil, fmt.Errorf("classifier: image %d: %w", i, err)
		}
		res[i] = r
		px = append(px, r.Pixels[:]...)
	}
	ps, err := c.ClassifyPixels(px)
	if err != nil {
		return nil, err
	}
	for i := range ps {
		ps[i].Prepared = &res[i]
	}
	return ps, nil
}

// run classifies n images, fill writing image i's model inputs into dst,
// in forward passes of at most c.batch images, each on a free replica.
func (c *Classifier) run(n int, fill func(dst []float32, i int)) ([]Prediction, error) {
	out := make([]Prediction, 0, n)
	for lo := 0; lo < n; lo += c.batch {
		var err error
		if out, err = c.forward(out, lo, min(c.batch, n-lo), fill); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// forward appends the predictions of images lo to lo+b to out.
func (c *Classifier) forward(out []Prediction, lo, b int, fill func(dst []float32, i int)) ([]Prediction, error) {
	r, err := c.acquire()
	if err != nil {
		return nil, err
	}
	defer c.release(r) // also when a layer panics, so the slot is not lost
	r.x = tensor.Ensure(r.x, b, imageprep.Size, imageprep.Size, 1)
	for i := range b {
		fill(r.x.Data[i*Pixels:(i+1)*Pixels], lo+i)
	}
	lg := r.p.Predict(r.x)
	k := lg.Shape[1]
	for i := range b {
		out = append(out, FromLogits(lg.Data[i*k:(i+1)*k]))
	}
	return out, nil
}

// acquire waits for a free replica slot and returns a replica, making one
// when every existing replica is busy.
func (c *Classifier) acquire() (*replica, error) {
	c.sem <- struct{}{}
	c.mu.Lock()
	if n := len(c.free); n > 0 {
		r := c.free[n-1]
		c.free = c.free[:n-1]
		c.mu.Unlock()
		return r, nil
	}
	c.mu.Unlock()
	p, err := c.newReplica()
	if err != nil {
		<-c.sem
		return nil, err
	}
	return &replica{p: p}, nil
}

func (c *Classifier) release(r *replica) {
	c.mu.Lock()
	c.free = append(c.free, r)
	c.mu.Unlock()
	<-c.sem
}
