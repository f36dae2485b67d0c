// Package report turns a run folder left by `fmnist run` into plots and one
// self-contained HTML page.
//
// A run folder holds config.json, metrics.csv (one row per model per epoch),
// results.json (one object per model) and predictions.csv (one row per model
// per test image). Build reads them, checks them, and writes next to them:
//
//	plots/<model>_curves.png, .svg     loss and accuracy per epoch
//	plots/<model>_confusion.png, .svg  confusion matrix on the test set
//	plots/<model>_errors.png           the most confident mistakes
//	per_class.csv                      precision, recall and F1 per class
//	report.html                        all of the above, images embedded
//
// The one idea: everything is derived from the files in the folder (plus the
// test images for the error grid), so a report can be rebuilt at any time and
// the same folder always gives the same bytes. Nothing in the output depends
// on the clock, the host or map order.
//
// The package does not import dataset: the caller passes the test images and
// labels as plain slices, which keeps report usable on any 28x28 set and its
// tests free of the real data. The subpackage reporttest writes synthetic
// run folders in the same layout, for tests here and in cmd/fmnist.
package report
