// Package imageprep turns an arbitrary PNG, JPEG or GIF picture of a piece
// of clothing into a 28×28 Fashion-MNIST item: grayscale bytes, a light
// article on a black background, filling the frame.
//
// The one idea: redo, on the user's picture, what Zalando did to its
// product photos, and leave alone a picture that is already an item.
// Fashion-MNIST's recipe was: trim the edges within 5% of the corner colour,
// scale the longest edge to 28, sharpen, pad the short edge to 28 with the
// article centred, negate, convert to 8-bit gray. Measured on the 70,000
// items (bounding box of the non-zero pixels): its longer side is 28 pixels
// in 98.3% of them (27 in 1.7%), and in 99% of them the two margins across
// the short side are equal or, when their sum is odd, the left (top) one
// is larger by one.
//
// Prepare does, in order:
//
//  1. Grayscale by luminance (Go's color.GrayModel weights, 0.299, 0.587,
//     0.114), transparent pixels composited over white as a web page shows
//     a product photo. An 8-bit gray input is unchanged by this.
//  2. Invert (Options.Invert): auto inverts when the mean of the border
//     pixels is light (≥ 128), that is a dark article on a light background.
//     No Fashion-MNIST item has a border mean above 127, so auto never
//     inverts one.
//  3. A 28×28 picture stops here: it is taken as already framed, so an
//     item exported from the dataset comes back bit for bit and predict
//     agrees with eval on it.
//  4. Remove the background: the median of the border is the background
//     level b, and v ↦ max(0, v−b)·255/(255−b), so that it becomes 0 as in
//     Fashion-MNIST.
//  5. Crop to the bounding box of the pixels that differ from b by more
//     than the threshold (5% of 255, Fashion-MNIST's), or keep the whole
//     picture when none does.
//  6. Scale so that the longer side is 28, keeping the aspect ratio:
//     area averaging when shrinking (each output pixel is the mean of the
//     source area it covers, so nothing aliases), bilinear when enlarging.
//     Fashion-MNIST subsampled rows and columns instead, which aliases; we
//     do not sharpen either. Both steps run in sRGB values, as theirs did.
//  7. Centre in the 28×28 frame, the odd pixel of margin to the left (top).
//
// Decode reads the configuration (the size) before the pixels, and refuses
// a picture over the pixel cap (Options.MaxPixels, default 50 megapixels)
// before the decoder allocates anything for it. EXIF orientation is not
// applied: a phone JPEG stored sideways is classified sideways.
package imageprep
