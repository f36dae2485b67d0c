// Package pipeline turns a recipe into a finished run: it holds the
// presets and the config (JSON or YAML, strictly decoded, validated), splits
// the data, and trains the stages of model.Names one after the other, each
// through the fit loop, testing each once and saving its model file. It
// checkpoints every epoch and resumes from a checkpoint to the same bits.
//
// The one idea: the three stages are one table (stageTable). A stage says
// only how it makes its model and its batches; fitting, testing, saving,
// writing the run folder and checkpoints are the same code for all three.
// A stage's seeds come from its place in that table, so it draws from
// streams of its own and gets the same numbers alone as in a whole run.
//
// Imports: fit (the loop), model (the files), runfolder (the one schema of
// the folder it writes), dataset, nn and checkpoint. It names no CLI
// command and prints nothing: notes go to Pipeline.Log, progress through
// fit's Hooks, and cmd/fmnist decides what a user sees.
package pipeline
