// Package optim updates nn.Params from their gradients: SGD (momentum,
// Nesterov, weight decay), Adam and AdamW, and learning-rate schedules.
//
// The updates follow PyTorch 1.13's torch.optim (single-tensor code path)
// step for step, in float32, rounding and fusing multiply-adds where torch's
// CPU kernels do: on the tests' inputs the results are bit-identical to
// torch's (testdata/torch_ref.py makes the reference values). Weight decay applies only to params with Decay set, as if the
// model had two torch param groups.
//
// An optimiser keeps its state (momentum buffers, Adam moments and step
// counts) by the position of each param in the slice given to Step, and
// allocates it once, on the first Step or on Init; a later Step allocates
// nothing. State and SetState move that state in and out by name for
// checkpoints; resume with Init, then SetState.
//
// A Schedule is a pure function of the step number, not an object that is
// stepped, so that resuming at step k needs nothing but k.
package optim
