package train

import (
	"fmt"
	"reflect"

	"github.com/fmnist/fmnist/nn"
)

// checkReloaded refuses a finished stage's model file, read back on a
// resume, that is not the one this run wrote: a model file of another run
// copied over it has a valid checksum of its own. Its specs must be the
// config's and its pixel normalisation the data's.
func (p *Pipeline) checkReloaded(path string, l *Loaded) error {
	c := p.Config
	type pair struct {
		what      string
		got, want nn.Spec
	}
	var ps []pair
	switch l.Kind {
	case "mlp":
		ps = []pair{{"mlp", l.Model.Spec, c.MLP.Spec}}
	case "cnn":
		ps = []pair{{"cnn", l.Model.Spec, c.CNN.Spec}}
	case "cnn_mlp":
		head := c.Head.Spec
		head.In = l.Stacked.Head.Spec.In // the backbone's width, checked with it
		ps = []pair{{"the head", l.Stacked.Head.Spec, head}}
		if p.Backbone == "" { // train head takes its backbone from a file of its own
			ps = append(ps, pair{"the backbone", l.Stacked.Backbone.Spec, c.CNN.Spec})
		}
	}
	for _, s := range ps {
		want, err := s.want.Normalize()
		if err != nil || !reflect.DeepEqual(s.got, want) {
			return fmt.Errorf("%w: %s: %s is %s, the run's config says %s", ErrCheckpoint, path, s.what, specJSON(s.got), specJSON(want))
		}
	}
	for k, v := range p.Data.meta() {
		if l.Meta[k] != v {
			return fmt.Errorf("%w: %s: %s %.40q, the run's data gives %s", ErrCheckpoint, path, k, l.Meta[k], v)
		}
	}
	return nil
}
