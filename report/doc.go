// Package report turns a run folder left by `fmnist run` into plots and one
// self-contained HTML page.
//
// Build reads a run folder through package runfolder, the one schema of its
// files (config.json, metrics.csv, timing.csv, results.json,
// predictions.csv), and writes next to them:
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
// The caller passes the test images and labels as plain slices, which keeps
// report usable on any 28x28 set and its tests free of the real data; only
// the default class names come from dataset. The subpackage reporttest
// writes synthetic run folders with runfolder's writers, for tests here and
// in cmd/fmnist.
//
// Imports: runfolder (and through it fit's epoch record), dataset for the
// class names, and the plotting library. It trains nothing and reaches into
// no layer.
package report
