// Package runfolder is the one schema of a run folder: the files that
// `fmnist run` and `fmnist train` leave, written and read by the same
// types here and nowhere else.
//
//	config.json       everything the run used (the pipeline's config)
//	metrics.csv       one row per model per epoch; the same bytes for the
//	                  same config and seed
//	timing.csv        each epoch's img/s and seconds, which vary by run
//	results.json      one object per model: test and validation accuracy
//	predictions.csv   one row per model per test image
//	<model>.safetensors  the model files (package model's format)
//	checkpoints/      resume states, named so that the newest sorts last
//	                  (CheckpointName, ListCheckpoints, PruneCheckpoints);
//	                  their content is the pipeline's
//
// The one idea: whoever writes a run folder (the pipeline, or a test's
// synthetic run) and whoever reads it (report, serve, resume) share these
// types, file names and column lists, so that the two cannot drift apart.
// A reader checks what it reads and names the file and line of a fault.
//
// Imports: fit (an epoch record is a row of metrics.csv), model (the
// model names and their file names), checkpoint (atomic writes) and
// internal/safefile. It trains nothing and knows no config's fields: the
// config is written from, and read into, whatever the caller gives.
package runfolder
