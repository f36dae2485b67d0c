module github.com/fmnist/fmnist/internal/kernels/gonumcmp

go 1.26.0

require github.com/fmnist/fmnist v0.0.0

require (
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/gonum v0.17.0
)

replace github.com/fmnist/fmnist => ../../..
