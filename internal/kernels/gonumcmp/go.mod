module fmnist/internal/kernels/gonumcmp

go 1.26.0

require fmnist v0.0.0

require (
	golang.org/x/sys v0.50.0 // indirect
	gonum.org/v1/gonum v0.17.0
)

replace fmnist => ../../..
