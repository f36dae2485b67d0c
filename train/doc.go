// Package train runs the epoch loop: it feeds batches to a model, applies
// the optimiser on a learning-rate schedule, evaluates on validation after
// every epoch, keeps the weights of the best validation epoch, and reports
// what happened as Records through hooks rather than printing.
//
// The test set is never seen here: callers evaluate it once, at the end,
// with Evaluate on the restored best weights.
package train
