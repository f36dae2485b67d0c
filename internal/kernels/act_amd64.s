//go:build !noasm

#include "textflag.h"

// Element-wise kernels on 8-float vectors. Operands are ordered so that each
// instruction computes what the Go reference does, with the same first
// operand: VMAXPS x, zero, d is Intel's MAXPS(zero, x), which returns x
// unless 0 > x, so NaN and -0 pass through as in `if v < 0 { v = 0 }`.

// func reluAVX2(y, x *float32, n int)
TEXT ·reluAVX2(SB), NOSPLIT, $0-24
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ n+16(FP), CX
	VXORPS Y15, Y15, Y15
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $~31, DX
	JZ   relu8

relu32:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS 32(SI)(AX*4), Y1
	VMOVUPS 64(SI)(AX*4), Y2
	VMOVUPS 96(SI)(AX*4), Y3
	VMAXPS  Y0, Y15, Y0
	VMAXPS  Y1, Y15, Y1
	VMAXPS  Y2, Y15, Y2
	VMAXPS  Y3, Y15, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	CMPQ    AX, DX
	JLT     relu32

relu8:
	CMPQ AX, CX
	JGE  reludone
	VMOVUPS (SI)(AX*4), Y0
	VMAXPS  Y0, Y15, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     relu8

reludone:
	VZEROUPPER
	RET

// func reluBackwardAVX2(dx, dy, y *float32, n int)
// dx = dy AND (y > 0), the comparison ordered and quiet: a NaN y gives 0.
TEXT ·reluBackwardAVX2(SB), NOSPLIT, $0-32
	MOVQ dx+0(FP), DI
	MOVQ dy+8(FP), SI
	MOVQ y+16(FP), R8
	MOVQ n+24(FP), CX
	VXORPS Y15, Y15, Y15
	XORQ AX, AX
	MOVQ CX, DX
	ANDQ $~31, DX
	JZ   rb8

rb32:
	VMOVUPS (R8)(AX*4), Y0
	VMOVUPS 32(R8)(AX*4), Y1
	VMOVUPS 64(R8)(AX*4), Y2
	VMOVUPS 96(R8)(AX*4), Y3
	VCMPPS  $0x1e, Y15, Y0, Y0
	VCMPPS  $0x1e, Y15, Y1, Y1
	VCMPPS  $0x1e, Y15, Y2, Y2
	VCMPPS  $0x1e, Y15, Y3, Y3
	VANDPS  (SI)(AX*4), Y0, Y0
	VANDPS  32(SI)(AX*4), Y1, Y1
	VANDPS  64(SI)(AX*4), Y2, Y2
	VANDPS  96(SI)(AX*4), Y3, Y3
	VMOVUPS Y0, (DI)(AX*4)
	VMOVUPS Y1, 32(DI)(AX*4)
	VMOVUPS Y2, 64(DI)(AX*4)
	VMOVUPS Y3, 96(DI)(AX*4)
	ADDQ    $32, AX
	CMPQ    AX, DX
	JLT     rb32

rb8:
	CMPQ AX, CX
	JGE  rbdone
	VMOVUPS (R8)(AX*4), Y0
	VCMPPS  $0x1e, Y15, Y0, Y0
	VANDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	JMP     rb8

rbdone:
	VZEROUPPER
	RET

// func addBiasAVX2(y, bias *float32, rows, w, stride int, relu bool)
TEXT ·addBiasAVX2(SB), NOSPLIT, $0-41
	MOVQ    y+0(FP), DI
	MOVQ    bias+8(FP), SI
	MOVQ    rows+16(FP), R8
	MOVQ    w+24(FP), CX
	MOVQ    stride+32(FP), R9
	SHLQ    $2, R9
	MOVBLZX relu+40(FP), R10
	VXORPS  Y15, Y15, Y15

abrow:
	XORQ AX, AX
	TESTQ R10, R10
	JNZ  abrelu

abplain:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     abplain
	JMP     abnext

abrelu:
	VMOVUPS (DI)(AX*4), Y0
	VADDPS  (SI)(AX*4), Y0, Y0
	VMAXPS  Y0, Y15, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     abrelu

abnext:
	ADDQ R9, DI
	DECQ R8
	JNZ  abrow
	VZEROUPPER
	RET

// func axpyAVX2(y, x *float32, n int, a float32)
// y = y + (a*x), the product rounded first as in AxpyRef.
TEXT ·axpyAVX2(SB), NOSPLIT, $0-28
	MOVQ         y+0(FP), DI
	MOVQ         x+8(FP), SI
	MOVQ         n+16(FP), CX
	VBROADCASTSS a+24(FP), Y15
	XORQ         AX, AX

axpy8:
	VMULPS  (SI)(AX*4), Y15, Y0
	VMOVUPS (DI)(AX*4), Y1
	VADDPS  Y0, Y1, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     axpy8
	VZEROUPPER
	RET

// func scaleAVX2(x *float32, n int, a float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-20
	MOVQ         x+0(FP), DI
	MOVQ         n+8(FP), CX
	VBROADCASTSS a+16(FP), Y15
	XORQ         AX, AX

scale8:
	VMOVUPS (DI)(AX*4), Y0
	VMULPS  Y15, Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     scale8
	VZEROUPPER
	RET

// func mulMaskAVX2(y, x, mask *float32, n int)
TEXT ·mulMaskAVX2(SB), NOSPLIT, $0-32
	MOVQ y+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ mask+16(FP), R8
	MOVQ n+24(FP), CX
	XORQ AX, AX

mm8:
	VMOVUPS (SI)(AX*4), Y0
	VMULPS  (R8)(AX*4), Y0, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     mm8
	VZEROUPPER
	RET

// func colSumAVX2(dst, x *float32, rows, w, stride int)
// Columns go 32 at a time (four accumulators, one pass over the rows), then
// 8 at a time; each column is summed over the rows in order, from dst.
TEXT ·colSumAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ x+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ w+24(FP), CX
	MOVQ stride+32(FP), R9
	SHLQ $2, R9

cs32:
	CMPQ CX, $32
	JLT  cs8
	VMOVUPS (DI), Y0
	VMOVUPS 32(DI), Y1
	VMOVUPS 64(DI), Y2
	VMOVUPS 96(DI), Y3
	MOVQ    SI, AX
	MOVQ    R8, DX

cs32row:
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	ADDQ   R9, AX
	DECQ   DX
	JNZ    cs32row
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	VMOVUPS Y2, 64(DI)
	VMOVUPS Y3, 96(DI)
	ADDQ    $128, DI
	ADDQ    $128, SI
	SUBQ    $32, CX
	JMP     cs32

cs8:
	TESTQ CX, CX
	JZ    csdone
	VMOVUPS (DI), Y0
	MOVQ    SI, AX
	MOVQ    R8, DX

cs8row:
	VADDPS (AX), Y0, Y0
	ADDQ   R9, AX
	DECQ   DX
	JNZ    cs8row
	VMOVUPS Y0, (DI)
	ADDQ    $32, DI
	ADDQ    $32, SI
	SUBQ    $8, CX
	JMP     cs8

csdone:
	VZEROUPPER
	RET

// FMA64 sets dst to float32(float64(a)·float64(b) + float64(c)) for the 8
// floats of b and c (given as their X and Y names) and the double a
// broadcast in A: the products are exact in float64, so this is
// SGDMomentumRef's fma32. It uses Y10 to Y12 and X14.
#define FMA64(A, xb, yb, xc, yc, dst) \
	VCVTPS2PD    xb, Y10; \
	VCVTPS2PD    xc, Y11; \
	VMULPD       A, Y10, Y10; \
	VADDPD       Y11, Y10, Y10; \
	VCVTPD2PSY   Y10, X12; \
	VEXTRACTF128 $1, yb, X14; \
	VCVTPS2PD    X14, Y10; \
	VEXTRACTF128 $1, yc, X14; \
	VCVTPS2PD    X14, Y11; \
	VMULPD       A, Y10, Y10; \
	VADDPD       Y11, Y10, Y10; \
	VCVTPD2PSY   Y10, X14; \
	VINSERTF128  $1, X14, Y12, dst

// func sgdMomentumAVX2(w, grad, buf *float32, n int, lr, wd, mom float32)
// One step of SGDMomentumRef on n floats (a multiple of 8).
TEXT ·sgdMomentumAVX2(SB), NOSPLIT, $0-44
	MOVQ         w+0(FP), DI
	MOVQ         grad+8(FP), SI
	MOVQ         buf+16(FP), R8
	MOVQ         n+24(FP), CX
	VBROADCASTSS mom+40(FP), Y9
	MOVSS        wd+36(FP), X7
	VCVTSS2SD    X7, X7, X7
	VBROADCASTSD X7, Y7         // wd as a double
	MOVL         wd+36(FP), R10
	ANDL         $0x7fffffff, R10 // wd != 0, as Go compares: -0 is 0
	MOVL         lr+32(FP), R11
	XORL         $0x80000000, R11 // -lr
	MOVL         R11, X8
	VCVTSS2SD    X8, X8, X8
	VBROADCASTSD X8, Y8         // -lr as a double
	XORQ         AX, AX

sgd8:
	VMOVUPS (DI)(AX*4), Y0 // x
	VMOVUPS (SI)(AX*4), Y1 // d = g
	TESTL   R10, R10
	JZ      sgdnowd
	FMA64(Y7, X0, Y0, X1, Y1, Y1) // d = fma32(wd, x, g)

sgdnowd:
	VMULPS  (R8)(AX*4), Y9, Y2 // mom·buf
	VADDPS  Y1, Y2, Y2         // b = mom·buf + d
	VMOVUPS Y2, (R8)(AX*4)
	FMA64(Y8, X2, Y2, X0, Y0, Y3) // w = fma32(-lr, b, x)
	VMOVUPS Y3, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     sgd8
	VZEROUPPER
	RET
