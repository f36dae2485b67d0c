// Package nn holds the layers, the loss and the models of fmnist: the MLP,
// the five-convolution backbone and its feature extractor.
//
// A Layer owns its parameters, their gradients and its scratch buffers, and
// sizes them once per batch shape, so that a training step in steady state
// allocates nothing. Forward returns a tensor the layer owns, valid until its
// next Forward (Flatten returns a view of its input, and Dropout in eval mode
// returns its input itself); Backward overwrites the parameter gradients (it
// does not accumulate) and returns the gradient with respect to the input,
// also owned by the layer. Parameters must not change between a Forward and
// its Backward. Activations are NHWC.
//
// # Layouts
//
// Linear stores W as (in, out) and Conv2D as (9·cin, cout) with rows in
// (ky, kx, cin) order, so that both run on the same three GEMM shapes:
// y = x·W, dW = xᵀ·dy, dx = dy·Wᵀ (for an im2col convolution, x is the
// im2col matrix and dx goes back through col2im; a Winograd one makes the
// same three products per transform position). Model.StateDict converts to
// PyTorch's layouts, (out, in) and (cout, cin, 3, 3), and LoadStateDict back.
//
// # Fusions
//
// Linear and Conv2D can carry the ReLU that follows them (the bias and the
// clamp are one pass), and BatchNorm the ReLU that follows it; GlobalMaxPool
// is AdaptiveMaxPool2d(1) and Flatten in one. A fused layer takes the
// Sequential indices of all the PyTorch modules it stands for, so that the
// state-dict names stay PyTorch's.
//
// # Models and their PyTorch twins
//
// Build turns a Spec into a model whose state dict has the names, shapes and
// order of this PyTorch module (testdata/torch_golden.py runs it and
// golden_test.go checks both sides, including torch_ref.py's reference
// models):
//
//	def build(s):
//	    bn, p, k = s.get("batch_norm", False), s.get("dropout", 0), s.get("classes") or 10
//	    if s["kind"] == "mlp":
//	        layers, c = [nn.Flatten()], s.get("in") or 784
//	        layers += [nn.Dropout(s["input_dropout"])] * (s.get("input_dropout", 0) > 0)
//	        for h in s.get("hidden") or [512, 256]:
//	            layers += [nn.Linear(c, h, bias=not bn)] + [nn.BatchNorm1d(h)] * bn + [nn.ReLU()] + [nn.Dropout(p)] * (p > 0)
//	            c = h
//	        return nn.Sequential(*layers, nn.Linear(c, k))
//	    layers, c = [], s.get("in") or 1
//	    for i, o in enumerate(s["widths"]):  # with Normalize's defaults filled in
//	        layers += [nn.Conv2d(c, o, 3, padding=1, bias=not bn)] + [nn.BatchNorm2d(o)] * bn + [nn.ReLU()]
//	        layers += [nn.MaxPool2d(2)] * (i in s["pool_after"])
//	        c = o
//	    layers += [nn.AdaptiveMaxPool2d(1), nn.Flatten()] + [nn.Dropout(p)] * (p > 0)
//	    return CNN(nn.Sequential(*layers), nn.Linear(c, k))  # forward: head(backbone(x))
//
// So an mlp without batch norm names its linears 1, 3, 5, ... (with dropout
// 1, 4, 7, ...; with input dropout too, 2, 5, 8, ...), and a cnn's dropout is the last module of the backbone, so
// that the head is always head.weight and head.bias and a model without
// dropout loads into one with it. Features returns the backbone's output in
// eval mode, where dropout is the identity.
//
// A batch norm's num_batches_tracked is carried as a float32 scalar (empty
// Shape, one value), exact up to 2²⁴ batches; PyTorch's load_state_dict
// casts it back to int64.
//
// # Initialisation and determinism
//
// Build draws every weight from one PCG generator seeded by its seed
// (NewRNG): Kaiming normal with fan-in (std sqrt(2/fan_in)) for linear and
// convolution weights, zero biases, γ = 1 and β = 0 for batch norms. Each
// Dropout takes its own PCG stream, seeded from that generator in build
// order. Nothing depends on map order or goroutine scheduling, and the
// kernels give the same bits at any GOMAXPROCS, so a seed and a Spec give
// the same bits at every step.
//
// # Convolutions: three algorithms
//
// A convolution on images of at least 4×4 with two or more input channels
// runs as Winograd F(2×2, 3×3) (kernels.WinogradConv): 2.25 times fewer
// multiplies than im2col, in cache-sized chunks of whole images, with the
// bias, the ReLU, its mask and the bias gradient fused into the transforms;
// it keeps nothing for Backward but the input. Its results match im2col's
// to rounding (as closely as im2col matches the exact sum), not to the
// bit, and the weight gradient is summed in a fixed order of image groups,
// so the bits depend only on the shapes. On the reference CNN it halves
// the convolution time at 28×28 and 14×14 and saves a fifth at 7×7.
//
// On smaller images, up to 16 pixels, the half-empty Winograd tiles and
// im2col's padding cost more than they compute, so each pair of an output
// and an input pixel is one GEMM over the batch (kernels.Conv3x3Taps): a
// 3×3 image has 49 such pairs where im2col multiplies 81 blocks, which
// makes the reference CNN's last convolution 1.6 times faster. With one
// input channel Winograd's GEMMs would have K = 1, so the first layer, and
// any other image, takes im2col.
//
// The im2col path works in chunks of about 7 MiB of columns (8 images at
// 28×28 with 32 channels, the whole batch of the first layer): im2col of a
// chunk, then its GEMM, while the columns are still in cache. Training keeps the whole column matrix for the weight gradient when
// it fits in 256 MiB and otherwise recomputes it chunk by chunk; inference
// and the input gradient need only one chunk of scratch, so a batch of a
// thousand images does not need gigabytes. The weight gradient is summed
// chunk by chunk in a fixed order, so the chunking never changes the bits
// between runs.
//
// The first layer of a model skips its input gradient, which nothing reads.
package nn
