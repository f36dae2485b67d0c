// Package gonumcmp times fmnist's Sgemm beside gonum's at the same shapes,
// in one run:
//
//	cd internal/kernels/gonumcmp
//	go test -tags noasm -run - -bench . -count 5
//
// It is a module of its own so that fmnist's go.mod does not gain gonum for
// a benchmark; the replace directive points it at this checkout. With the
// noasm tag both sides run their pure-Go kernels, which is the comparison
// issue 18 asks for; without it, fmnist's assembly against gonum's.
package gonumcmp
