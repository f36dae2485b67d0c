package report

import (
	"encoding/json"
	"fmt"
	"strings"
)

// runConfig is the part of config.json the page states at the top. The
// fields are read leniently: a config from another version, or a hand-made
// one, simply says less.
type runConfig struct {
	Seed   *uint64                `json:"seed"`
	Val    *int                   `json:"val"`
	Subset int                    `json:"subset"`
	Stages map[string]stageConfig `json:"-"`
}

type stageConfig struct {
	Model struct {
		Dropout      float64 `json:"dropout"`
		InputDropout float64 `json:"input_dropout"`
	} `json:"model"`
	Train struct {
		Epochs         int     `json:"epochs"`
		LabelSmoothing float64 `json:"label_smoothing"`
	} `json:"train"`
	Augment struct {
		Pad   int     `json:"pad"`
		Flip  bool    `json:"flip"`
		Erase float64 `json:"erase"`
	} `json:"augment"`
}

// stageKeys maps a model to its stage in config.json: the head on the
// CNN's features is trained from the "head" stage.
var stageKeys = map[string]string{"mlp": "mlp", "cnn": "cnn", "cnn_mlp": "head"}

func parseRunConfig(text string) runConfig {
	var c runConfig
	if json.Unmarshal([]byte(text), &c) != nil {
		return runConfig{}
	}
	var raw map[string]json.RawMessage
	if json.Unmarshal([]byte(text), &raw) != nil {
		return c
	}
	c.Stages = map[string]stageConfig{}
	for m, key := range stageKeys {
		var s stageConfig
		if r, ok := raw[key]; ok && json.Unmarshal(r, &s) == nil {
			c.Stages[m] = s
		}
	}
	return c
}

// summary is the run's size in one sentence, shown above the results: the
// training images, the validation split and each model's epochs.
func summary(c runConfig, models []string, res map[string]Result) string {
	var parts []string
	switch {
	case c.Subset > 0:
		parts = append(parts, "Trained on the first "+thousands(c.Subset)+" training images")
	case c.Val != nil:
		parts = append(parts, "Trained on all training images")
	}
	if c.Val != nil {
		parts = append(parts, thousands(*c.Val)+" held out for validation")
	}
	var eps []string
	for _, m := range models {
		planned := c.Stages[m].Train.Epochs
		r, ok := res[m]
		switch {
		case ok && planned > 0 && r.Epochs < planned:
			eps = append(eps, fmt.Sprintf("%s %d of %d (stopped early)", m, r.Epochs, planned))
		case planned > 0:
			eps = append(eps, fmt.Sprintf("%s %d", m, planned))
		case ok && r.Epochs > 0:
			eps = append(eps, fmt.Sprintf("%s %d", m, r.Epochs))
		}
	}
	if len(eps) > 0 {
		parts = append(parts, "epochs: "+strings.Join(eps, ", "))
	}
	if c.Seed != nil {
		parts = append(parts, fmt.Sprintf("seed %d", *c.Seed))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, "; ") + "."
}

// shortRun says why the run's figures are not those of a full training, or
// "" when they are: a subset of the training images, or fewer epochs than
// the reference recipe gives a model.
func shortRun(c runConfig, models []string, ref map[string]int) string {
	var why []string
	if c.Subset > 0 {
		why = append(why, "on only "+thousands(c.Subset)+" training images (subset)")
	}
	var few []string
	for _, m := range models {
		got, want := c.Stages[m].Train.Epochs, ref[m]
		if got > 0 && got < want {
			few = append(few, fmt.Sprintf("%s %d of %d", m, got, want))
		}
	}
	if len(few) > 0 {
		why = append(why, "for fewer epochs than the default recipe ("+strings.Join(few, ", ")+")")
	}
	if len(why) == 0 {
		return ""
	}
	return "A short run: trained " + strings.Join(why, " and ") +
		". Its accuracies are not the full recipe's: read them as a check of the tool, not as a result."
}

// lossNote explains why the training loss can sit above the validation
// loss, naming what the config turned on for model.
func lossNote(c runConfig, model string) string {
	s, ok := c.Stages[model]
	var on []string
	if s.Model.Dropout > 0 || s.Model.InputDropout > 0 {
		on = append(on, "dropout")
	}
	if s.Train.LabelSmoothing > 0 {
		on = append(on, fmt.Sprintf("label smoothing %g", s.Train.LabelSmoothing))
	}
	if s.Augment.Pad > 0 || s.Augment.Flip || s.Augment.Erase > 0 {
		on = append(on, "augmentation")
	}
	const val = "validation loss: plain cross-entropy in eval mode after the epoch."
	switch {
	case !ok:
		return "Train loss: the running mean over the epoch, in training mode; " + val
	case len(on) == 0:
		return "Train loss: the running mean over the epoch, while the weights change; " + val
	}
	return "Train loss: the running mean over the epoch with " + and(on) +
		" on, so it can sit above the " + val
}

// and joins words as a sentence does: "a", "a and b", "a, b and c".
func and(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " and " + words[len(words)-1]
}
