package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/fmnist/fmnist/model"
	"github.com/fmnist/fmnist/onnx"
)

func init() {
	register(command{name: "export", order: 47, run: exportModelMain,
		summary: "write a saved model as an ONNX file, for ONNX Runtime and other runtimes"})
}

func exportModelMain(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "export [--format onnx] [-o OUT] MODEL.safetensors",
		"Writes a model file of run or train (mlp, cnn or cnn_mlp, the last as one graph) as an ONNX file,\n"+
			"opset 13, that ONNX Runtime and other runtimes load. The graph's input \"pixels\" is float32\n"+
			"(batch, 1, 28, 28) holding pixel/255 (a light article on a dark ground, as in Fashion-MNIST); the\n"+
			"normalisation of the model file is inside the graph. Its output \"logits\" is float32 (batch, 10).\n"+
			"The batch size is free. The metadata holds class_names (a JSON array), pixel_mean and pixel_std.\n"+
			"Batch norms are folded into the layer before them. OUT defaults to MODEL with the extension .onnx.")
	fs.SetOutput(stderr)
	format := fs.String("format", "onnx", "output format: onnx")
	out := fs.String("o", "", "output file (default: MODEL with its extension replaced by .onnx)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageErrorf("want one model file, got %d arguments", fs.NArg())
	}
	if *format != "onnx" {
		return usageErrorf("--format %q: want onnx", *format)
	}
	path := fs.Arg(0)
	if *out == "" {
		*out = strings.TrimSuffix(path, filepath.Ext(path)) + ".onnx"
	}
	if *out == path {
		return usageErrorf("-o %s: that is the model file itself", *out)
	}
	l, err := model.LoadModel(path)
	if err != nil {
		return err
	}
	if err := onnx.WriteFile(*out, l); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	st, err := os.Stat(*out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s model, %d bytes, input %s (batch, 1, 28, 28) = pixel/255, output %s\n",
		*out, l.Kind, st.Size(), onnx.InputName, onnx.OutputName)
	return nil
}
