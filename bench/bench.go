package bench

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/fmnist/fmnist/internal/kernels"
	"github.com/fmnist/fmnist/internal/sysmem"
	"github.com/fmnist/fmnist/nn"
	"github.com/fmnist/fmnist/optim"
	"github.com/fmnist/fmnist/tensor"
)

// Batch is the batch size of every model row.
const Batch = 128

// Row is one line of the report. Exactly one of ImgPerS, GFLOPS and Ms is
// set.
type Row struct {
	Name    string  `json:"name"`
	ImgPerS float64 `json:"img_per_s,omitempty"`
	GFLOPS  float64 `json:"gflops,omitempty"`
	Ms      float64 `json:"ms,omitempty"` // latency1 rows: the median of single-image forwards
}

// Memory is what a training step of a model costs in memory.
type Memory struct {
	Model         string  `json:"model"`
	AllocsPerStep float64 `json:"allocs_per_step"`
	BytesPerStep  float64 `json:"bytes_per_step"`
	PeakRSSMiB    float64 `json:"peak_rss_mib"` // of the whole process so far
	// EstimateMiB is nn.Spec.MemoryBytes of a training step, an upper
	// bound that a run's memory budget is checked against.
	EstimateMiB float64 `json:"estimate_mib"`
}

// Report is the output of Run.
type Report struct {
	Engine  string   `json:"engine"`
	Kernels string   `json:"kernels"` // kernels.KernelSet: AVX-512, AVX2, NEON or portable Go
	Arch    string   `json:"arch"`    // GOOS/GOARCH
	Threads int      `json:"threads"`
	Results []Row    `json:"results"`
	Memory  []Memory `json:"memory"`
}

// Options choose what to run. Zero values take the defaults.
type Options struct {
	MLPSteps, CNNSteps int    // timed steps (default 40 and 12, as torch_ref.py)
	LatencyCalls       int    // timed single-image forwards per latency1 row (default 200)
	Only               string // run only rows whose name starts with this
	Progress           func(string)
}

// Models are the reference specs by name.
var Models = []struct {
	Name string
	Spec nn.Spec
}{
	{"mlp-ref", nn.Spec{Kind: "mlp", In: 784, Hidden: []int{512, 256}, Classes: 10}},
	{"cnn-ref", nn.Spec{Kind: "cnn", Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, Classes: 10}},
	{"cnn-ref-bn", nn.Spec{Kind: "cnn", Widths: []int{32, 64, 128, 256, 256}, PoolAfter: []int{1, 2, 3}, BatchNorm: true, Classes: 10}},
}

// GEMMs are the sgemm rows: M, N, K.
var GEMMs = [][3]int{{1024, 1024, 1024}, {128, 512, 784}, {6272, 64, 288}}

func hasPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// Run measures every row.
func Run(opt Options, version string) (*Report, error) {
	if opt.MLPSteps <= 0 {
		opt.MLPSteps = 40
	}
	if opt.CNNSteps <= 0 {
		opt.CNNSteps = 12
	}
	if opt.LatencyCalls <= 0 {
		opt.LatencyCalls = 200
	}
	rep := &Report{
		Engine:  "fmnist " + version,
		Kernels: kernels.KernelSet(),
		Arch:    runtime.GOOS + "/" + runtime.GOARCH,
		Threads: runtime.GOMAXPROCS(0),
	}
	say := func(s string) {
		if opt.Progress != nil {
			opt.Progress(s)
		}
	}
	for _, m := range Models {
		if opt.Only != "" && !hasPrefix(m.Name, opt.Only) {
			continue
		}
		steps := opt.CNNSteps
		if m.Spec.Kind == "mlp" {
			steps = opt.MLPSteps
		}
		say("timing " + m.Name)
		tr, inf, mem, err := timeModel(m.Spec, steps)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", m.Name, err)
		}
		mem.Model = m.Name
		if est, err := m.Spec.MemoryBytes(Batch, true); err == nil {
			mem.EstimateMiB = round1(est.Total() / (1 << 20))
		}
		lat, err := Latency1(m.Spec, opt.LatencyCalls)
		if err != nil {
			return nil, fmt.Errorf("bench: %s: %w", m.Name, err)
		}
		rep.Results = append(rep.Results, Row{Name: m.Name + "/train", ImgPerS: round1(tr)},
			Row{Name: m.Name + "/infer", ImgPerS: round1(inf)},
			Row{Name: m.Name + "/latency1", Ms: math.Round(lat*1e4) / 1e4})
		rep.Memory = append(rep.Memory, mem)
	}
	for _, g := range GEMMs {
		name := fmt.Sprintf("sgemm/%dx%dx%d", g[0], g[1], g[2])
		if opt.Only != "" && !hasPrefix(name, opt.Only) {
			continue
		}
		say("timing " + name)
		rep.Results = append(rep.Results, Row{Name: name, GFLOPS: round1(SgemmGFLOPS(g[0], g[1], g[2]))})
	}
	return rep, nil
}

// TrainImgPerS is the training images per second of a model of that spec
// over steps timed steps of Batch random images, as the /train rows
// measure it: the yardstick a real epoch's speed is held to.
func TrainImgPerS(spec nn.Spec, steps int) (float64, error) {
	tr, _, _, err := timeModel(spec, steps)
	return tr, err
}

func round1(v float64) float64 { return float64(int64(v*10+0.5)) / 10 }

// batches makes n random batches: inputs from a normal distribution and
// uniform labels, as torch_ref.py does.
func batches(spec nn.Spec, n int) ([]*tensor.Tensor, [][]uint8) {
	r := rand.New(rand.NewPCG(0, 0))
	xs := make([]*tensor.Tensor, n)
	ys := make([][]uint8, n)
	for i := range xs {
		if spec.Kind == "mlp" {
			xs[i] = tensor.New(Batch, spec.In)
		} else {
			xs[i] = tensor.New(Batch, 28, 28, 1)
		}
		for j := range xs[i].Data {
			xs[i].Data[j] = float32(r.NormFloat64())
		}
		ys[i] = make([]uint8, Batch)
		for j := range ys[i] {
			ys[i][j] = uint8(r.IntN(10))
		}
	}
	return xs, ys
}

func timeModel(spec nn.Spec, steps int) (trainIPS, inferIPS float64, mem Memory, err error) {
	m, err := nn.Build(spec, 0)
	if err != nil {
		return 0, 0, mem, err
	}
	xs, ys := batches(spec, steps)
	opt := optim.NewSGD(0.9, 0, false)
	params := m.Params()
	dl := tensor.New(Batch, 10)
	step := func(i int) {
		logits := m.Forward(xs[i], true)
		kernels.SoftmaxCrossEntropy(dl.Data, logits.Data, ys[i], Batch, 10, 0)
		m.Backward(dl)
		opt.Step(params, 0.01)
	}
	for i := 0; i < 3; i++ {
		step(i % steps)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	t := time.Now()
	for i := 0; i < steps; i++ {
		step(i)
	}
	el := time.Since(t).Seconds()
	runtime.ReadMemStats(&after)
	trainIPS = float64(steps*Batch) / el
	mem.AllocsPerStep = float64(after.Mallocs-before.Mallocs) / float64(steps)
	mem.BytesPerStep = float64(after.TotalAlloc-before.TotalAlloc) / float64(steps)
	mem.PeakRSSMiB = peakRSSMiB()

	m.Forward(xs[0], false)
	t = time.Now()
	for i := 0; i < steps; i++ {
		m.Forward(xs[i], false)
	}
	inferIPS = float64(steps*Batch) / time.Since(t).Seconds()
	return trainIPS, inferIPS, mem, nil
}

// Latency1 is the median time in milliseconds of one eval-mode forward pass
// of a single image through a model of that spec, over calls calls after a
// warm-up: the latency a server answering one request at a time sees.
func Latency1(spec nn.Spec, calls int) (float64, error) {
	m, err := nn.Build(spec, 0)
	if err != nil {
		return 0, err
	}
	shape := []int{1, 28, 28, 1}
	if spec.Kind == "mlp" {
		shape = []int{1, spec.In}
	}
	x := tensor.New(shape...)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range x.Data {
		x.Data[i] = float32(r.NormFloat64())
	}
	for range 20 {
		m.Forward(x, false)
	}
	ms := make([]float64, max(calls, 1))
	for i := range ms {
		t := time.Now()
		m.Forward(x, false)
		ms[i] = float64(time.Since(t).Nanoseconds()) / 1e6
	}
	slices.Sort(ms)
	if len(ms)%2 == 1 {
		return ms[len(ms)/2], nil
	}
	return (ms[len(ms)/2-1] + ms[len(ms)/2]) / 2, nil
}

func peakRSSMiB() float64 { return float64(sysmem.PeakRSS()) / (1 << 20) }

// SgemmGFLOPS times C = A·B at M×N×K, repeating until about half a second
// has passed after a warm-up call.
func SgemmGFLOPS(m, n, k int) float64 {
	r := rand.New(rand.NewPCG(1, 1))
	a := make([]float32, m*k)
	b := make([]float32, k*n)
	c := make([]float32, m*n)
	for i := range a {
		a[i] = r.Float32()
	}
	for i := range b {
		b[i] = r.Float32()
	}
	kernels.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
	reps := 0
	t := time.Now()
	for time.Since(t) < 500*time.Millisecond || reps < 3 {
		kernels.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
		reps++
	}
	return 2 * float64(m) * float64(n) * float64(k) * float64(reps) / time.Since(t).Seconds() / 1e9
}
