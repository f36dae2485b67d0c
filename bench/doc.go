// Package bench times fmnist's reference models and SGEMM products, the
// rows that ../shared/bench/compare.sh sets beside PyTorch's.
//
// The reference models are those of torch_ref.py: mlp-ref (784-512-256-10),
// cnn-ref (five 3×3 convs 32-64-128-256-256, 2×2 max-pool after convs 2, 3
// and 4, global max-pool, linear 256→10) and cnn-ref-bn (the same with batch
// norm after each conv and no conv bias). A training step is forward, softmax
// cross-entropy, backward and an SGD-momentum update at batch 128; inference
// is a forward pass in eval mode. Each is warmed up, then whole steps are
// timed.
package bench
