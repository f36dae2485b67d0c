//go:build !noasm

#include "textflag.h"

// This file is the source: its long unrolled macros were typed out once by
// a throwaway script and are edited by hand since (there is no generator).

// The 12×32 AVX-512 tile: 24 ZMM accumulators (Z8-Z31, two per row),
// B in Z0 and Z1, and six registers in turn for the broadcasts of A.

#define STEP12x32(ao, bo) \
	VMOVUPS      bo(DI), Z0    \
	VMOVUPS      bo+64(DI), Z1 \
	VBROADCASTSS ao+0(SI), Z2  \
	VFMADD231PS  Z0, Z2, Z8    \
	VFMADD231PS  Z1, Z2, Z9    \
	VBROADCASTSS ao+4(SI), Z3  \
	VFMADD231PS  Z0, Z3, Z10   \
	VFMADD231PS  Z1, Z3, Z11   \
	VBROADCASTSS ao+8(SI), Z4  \
	VFMADD231PS  Z0, Z4, Z12   \
	VFMADD231PS  Z1, Z4, Z13   \
	VBROADCASTSS ao+12(SI), Z5 \
	VFMADD231PS  Z0, Z5, Z14   \
	VFMADD231PS  Z1, Z5, Z15   \
	VBROADCASTSS ao+16(SI), Z6 \
	VFMADD231PS  Z0, Z6, Z16   \
	VFMADD231PS  Z1, Z6, Z17   \
	VBROADCASTSS ao+20(SI), Z7 \
	VFMADD231PS  Z0, Z7, Z18   \
	VFMADD231PS  Z1, Z7, Z19   \
	VBROADCASTSS ao+24(SI), Z2 \
	VFMADD231PS  Z0, Z2, Z20   \
	VFMADD231PS  Z1, Z2, Z21   \
	VBROADCASTSS ao+28(SI), Z3 \
	VFMADD231PS  Z0, Z3, Z22   \
	VFMADD231PS  Z1, Z3, Z23   \
	VBROADCASTSS ao+32(SI), Z4 \
	VFMADD231PS  Z0, Z4, Z24   \
	VFMADD231PS  Z1, Z4, Z25   \
	VBROADCASTSS ao+36(SI), Z5 \
	VFMADD231PS  Z0, Z5, Z26   \
	VFMADD231PS  Z1, Z5, Z27   \
	VBROADCASTSS ao+40(SI), Z6 \
	VFMADD231PS  Z0, Z6, Z28   \
	VFMADD231PS  Z1, Z6, Z29   \
	VBROADCASTSS ao+44(SI), Z7 \
	VFMADD231PS  Z0, Z7, Z30   \
	VFMADD231PS  Z1, Z7, Z31  

// The same step with A and B read in place: A's rows 3q to 3q+2 at the
// q-th of SI, R13, R9, R10 plus 0, 1, 2 times R12, all four advancing by
// R14; B's row at DI, advancing by R11.

#define STEPS12x32() \
	VMOVUPS      (DI), Z0         \
	VMOVUPS      64(DI), Z1       \
	VBROADCASTSS (SI), Z2         \
	VFMADD231PS  Z0, Z2, Z8       \
	VFMADD231PS  Z1, Z2, Z9       \
	VBROADCASTSS (SI)(R12*1), Z3  \
	VFMADD231PS  Z0, Z3, Z10      \
	VFMADD231PS  Z1, Z3, Z11      \
	VBROADCASTSS (SI)(R12*2), Z4  \
	VFMADD231PS  Z0, Z4, Z12      \
	VFMADD231PS  Z1, Z4, Z13      \
	VBROADCASTSS (R13), Z5        \
	VFMADD231PS  Z0, Z5, Z14      \
	VFMADD231PS  Z1, Z5, Z15      \
	VBROADCASTSS (R13)(R12*1), Z6 \
	VFMADD231PS  Z0, Z6, Z16      \
	VFMADD231PS  Z1, Z6, Z17      \
	VBROADCASTSS (R13)(R12*2), Z7 \
	VFMADD231PS  Z0, Z7, Z18      \
	VFMADD231PS  Z1, Z7, Z19      \
	VBROADCASTSS (R9), Z2         \
	VFMADD231PS  Z0, Z2, Z20      \
	VFMADD231PS  Z1, Z2, Z21      \
	VBROADCASTSS (R9)(R12*1), Z3  \
	VFMADD231PS  Z0, Z3, Z22      \
	VFMADD231PS  Z1, Z3, Z23      \
	VBROADCASTSS (R9)(R12*2), Z4  \
	VFMADD231PS  Z0, Z4, Z24      \
	VFMADD231PS  Z1, Z4, Z25      \
	VBROADCASTSS (R10), Z5        \
	VFMADD231PS  Z0, Z5, Z26      \
	VFMADD231PS  Z1, Z5, Z27      \
	VBROADCASTSS (R10)(R12*1), Z6 \
	VFMADD231PS  Z0, Z6, Z28      \
	VFMADD231PS  Z1, Z6, Z29      \
	VBROADCASTSS (R10)(R12*2), Z7 \
	VFMADD231PS  Z0, Z7, Z30      \
	VFMADD231PS  Z1, Z7, Z31      \
	ADDQ         R14, SI          \
	ADDQ         R14, R13         \
	ADDQ         R14, R9          \
	ADDQ         R14, R10         \
	ADDQ         R11, DI

// Bring the 12 rows of the C tile towards L1.

#define PREFETCHC12x32() \
	MOVQ       DX, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX) \
	ADDQ       R8, AX  \
	PREFETCHT0 (AX)    \
	PREFETCHT0 64(AX)  \
	PREFETCHT0 127(AX)

#define ZEROACC12x32() \
	VPXORD Z8, Z8, Z8    \
	VPXORD Z9, Z9, Z9    \
	VPXORD Z10, Z10, Z10 \
	VPXORD Z11, Z11, Z11 \
	VPXORD Z12, Z12, Z12 \
	VPXORD Z13, Z13, Z13 \
	VPXORD Z14, Z14, Z14 \
	VPXORD Z15, Z15, Z15 \
	VPXORD Z16, Z16, Z16 \
	VPXORD Z17, Z17, Z17 \
	VPXORD Z18, Z18, Z18 \
	VPXORD Z19, Z19, Z19 \
	VPXORD Z20, Z20, Z20 \
	VPXORD Z21, Z21, Z21 \
	VPXORD Z22, Z22, Z22 \
	VPXORD Z23, Z23, Z23 \
	VPXORD Z24, Z24, Z24 \
	VPXORD Z25, Z25, Z25 \
	VPXORD Z26, Z26, Z26 \
	VPXORD Z27, Z27, Z27 \
	VPXORD Z28, Z28, Z28 \
	VPXORD Z29, Z29, Z29 \
	VPXORD Z30, Z30, Z30 \
	VPXORD Z31, Z31, Z31

// C = alpha·acc + beta·C, or alpha·acc when beta is ±0 (C not read).

#define STOREC12x32() \
	VBROADCASTSS alpha+40(FP), Z0 \
	MOVL         beta+44(FP), AX  \
	ANDL         $0x7fffffff, AX  \
	JZ           storezero        \
	VBROADCASTSS beta+44(FP), Z1  \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z8, Z0, Z2       \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z9, Z0, Z3       \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z10, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z11, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z12, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z13, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z14, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z15, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z16, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z17, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z18, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z19, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z20, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z21, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z22, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z23, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z24, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z25, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z26, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z27, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z28, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z29, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       (DX), Z1, Z2     \
	VFMADD231PS  Z30, Z0, Z2      \
	VMOVUPS      Z2, (DX)         \
	VMULPS       64(DX), Z1, Z3   \
	VFMADD231PS  Z31, Z0, Z3      \
	VMOVUPS      Z3, 64(DX)       \
	ADDQ         R8, DX           \
	VZEROUPPER                    \
	RET                           \
	storezero:                    \
	VMULPS       Z8, Z0, Z8       \
	VMOVUPS      Z8, (DX)         \
	VMULPS       Z9, Z0, Z9       \
	VMOVUPS      Z9, 64(DX)       \
	ADDQ         R8, DX           \
	VMULPS       Z10, Z0, Z10     \
	VMOVUPS      Z10, (DX)        \
	VMULPS       Z11, Z0, Z11     \
	VMOVUPS      Z11, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z12, Z0, Z12     \
	VMOVUPS      Z12, (DX)        \
	VMULPS       Z13, Z0, Z13     \
	VMOVUPS      Z13, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z14, Z0, Z14     \
	VMOVUPS      Z14, (DX)        \
	VMULPS       Z15, Z0, Z15     \
	VMOVUPS      Z15, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z16, Z0, Z16     \
	VMOVUPS      Z16, (DX)        \
	VMULPS       Z17, Z0, Z17     \
	VMOVUPS      Z17, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z18, Z0, Z18     \
	VMOVUPS      Z18, (DX)        \
	VMULPS       Z19, Z0, Z19     \
	VMOVUPS      Z19, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z20, Z0, Z20     \
	VMOVUPS      Z20, (DX)        \
	VMULPS       Z21, Z0, Z21     \
	VMOVUPS      Z21, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z22, Z0, Z22     \
	VMOVUPS      Z22, (DX)        \
	VMULPS       Z23, Z0, Z23     \
	VMOVUPS      Z23, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z24, Z0, Z24     \
	VMOVUPS      Z24, (DX)        \
	VMULPS       Z25, Z0, Z25     \
	VMOVUPS      Z25, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z26, Z0, Z26     \
	VMOVUPS      Z26, (DX)        \
	VMULPS       Z27, Z0, Z27     \
	VMOVUPS      Z27, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z28, Z0, Z28     \
	VMOVUPS      Z28, (DX)        \
	VMULPS       Z29, Z0, Z29     \
	VMOVUPS      Z29, 64(DX)      \
	ADDQ         R8, DX           \
	VMULPS       Z30, Z0, Z30     \
	VMOVUPS      Z30, (DX)        \
	VMULPS       Z31, Z0, Z31     \
	VMOVUPS      Z31, 64(DX)      \
	ADDQ         R8, DX           \
	VZEROUPPER                    \
	RET                          

// func sgemmKernel12x32AVX512(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel12x32AVX512(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	PREFETCHC12x32()
	ZEROACC12x32()

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	STEP12x32(0, 0)
	STEP12x32(48, 128)
	STEP12x32(96, 256)
	STEP12x32(144, 384)
	ADDQ $192, SI
	ADDQ $512, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP12x32(0, 0)
	ADDQ $48, SI
	ADDQ $128, DI
	DECQ CX
	JNZ  loop1

store:
	STOREC12x32()

// func sgemmKernel12x32StridedAVX512(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)
TEXT ·sgemmKernel12x32StridedAVX512(SB), NOSPLIT, $0-72
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8
	MOVQ rsa+48(FP), R12
	SHLQ $2, R12
	MOVQ csa+56(FP), R14
	SHLQ $2, R14
	MOVQ ldb+64(FP), R11
	SHLQ $2, R11
	LEAQ (R12)(R12*2), AX
	LEAQ (SI)(AX*1), R13
	LEAQ (R13)(AX*1), R9
	LEAQ (R9)(AX*1), R10
	PREFETCHC12x32()
	ZEROACC12x32()

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   stail

sloop4:
	STEPS12x32()
	STEPS12x32()
	STEPS12x32()
	STEPS12x32()
	DECQ BX
	JNZ  sloop4

stail:
	ANDQ $3, CX
	JZ   sstore

sloop1:
	STEPS12x32()
	DECQ CX
	JNZ  sloop1

sstore:
	STOREC12x32()

