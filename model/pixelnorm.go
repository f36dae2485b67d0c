package model

import (
	"fmt"
	"strconv"
)

// PixelMeta is the model-file metadata that a reloaded model needs to see
// its inputs as in training: the pixel normalisation of the train split.
func PixelMeta(mean, std float32) map[string]string {
	return map[string]string{
		"pixel_mean": strconv.FormatFloat(float64(mean), 'g', -1, 32),
		"pixel_std":  strconv.FormatFloat(float64(std), 'g', -1, 32),
	}
}

// PixelNorm reads the pixel normalisation back from model-file metadata.
func PixelNorm(meta map[string]string) (mean, std float32, err error) {
	m, err1 := strconv.ParseFloat(meta["pixel_mean"], 32)
	s, err2 := strconv.ParseFloat(meta["pixel_std"], 32)
	if err1 != nil || err2 != nil || !(s > 0) {
		return 0, 0, fmt.Errorf("model: no valid pixel_mean/pixel_std in the model's metadata")
	}
	return float32(m), float32(s), nil
}
