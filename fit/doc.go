// Package fit is the training loop of one model: it feeds batches to the
// model, steps the optimiser on a learning-rate schedule, validates after
// every epoch, keeps the weights of the best validation epoch, and tells
// what happened through Hooks (epoch Records, Progress, a Stop poll, and
// Checkpoint states that FitFrom continues bit for bit).
//
// The one idea: Fit knows one model and its batches, nothing else. It does
// not print, read or write files, or know that a pipeline trains three
// models in stages; the pipeline package does, through the hooks. The
// test set is never seen here: callers Evaluate it once, at the end, on
// the restored best weights.
//
// Imports: nn, optim, tensor and internal/kernels (the loss). Not dataset:
// anything with Epoch, Batches and Next is a source of batches, which is
// why FeatureLoader, a matrix of CNN features, lives here beside the
// loaders of dataset.
package fit
