//go:build !noasm

#include "textflag.h"

// One step of the 6×16 tile: ao and bo are byte offsets into the A and B
// panels (SI, DI). Y0, Y1 hold a row of B; Y2, Y3 alternate as broadcasts
// of A so that consecutive broadcasts do not wait on each other.
#define STEP6x16(ao, bo) \
	VMOVUPS      bo(DI), Y0              \
	VMOVUPS      bo+32(DI), Y1           \
	VBROADCASTSS ao(SI), Y2              \
	VFMADD231PS  Y0, Y2, Y4              \
	VFMADD231PS  Y1, Y2, Y5              \
	VBROADCASTSS ao+4(SI), Y3            \
	VFMADD231PS  Y0, Y3, Y6              \
	VFMADD231PS  Y1, Y3, Y7              \
	VBROADCASTSS ao+8(SI), Y2            \
	VFMADD231PS  Y0, Y2, Y8              \
	VFMADD231PS  Y1, Y2, Y9              \
	VBROADCASTSS ao+12(SI), Y3           \
	VFMADD231PS  Y0, Y3, Y10             \
	VFMADD231PS  Y1, Y3, Y11             \
	VBROADCASTSS ao+16(SI), Y2           \
	VFMADD231PS  Y0, Y2, Y12             \
	VFMADD231PS  Y1, Y2, Y13             \
	VBROADCASTSS ao+20(SI), Y3           \
	VFMADD231PS  Y0, Y3, Y14             \
	VFMADD231PS  Y1, Y3, Y15

// C row = alpha·acc + beta·C, with alpha in Y0 and beta in Y1.
#define ROWBETA(lo, hi) \
	VMULPS      (DX), Y1, Y2   \
	VFMADD231PS lo, Y0, Y2     \
	VMOVUPS     Y2, (DX)       \
	VMULPS      32(DX), Y1, Y3 \
	VFMADD231PS hi, Y0, Y3     \
	VMOVUPS     Y3, 32(DX)     \
	ADDQ        R8, DX

// C row = alpha·acc, C not read.
#define ROWZERO(lo, hi) \
	VMULPS  lo, Y0, lo   \
	VMOVUPS lo, (DX)     \
	VMULPS  hi, Y0, hi   \
	VMOVUPS hi, 32(DX)   \
	ADDQ    R8, DX

// C = alpha·acc + beta·C, or alpha·acc when beta is ±0 (C not read).
#define STOREC() \
	VBROADCASTSS alpha+40(FP), Y0 \
	MOVL         beta+44(FP), AX \
	ANDL         $0x7fffffff, AX \
	JZ           storezero \
	VBROADCASTSS beta+44(FP), Y1 \
	ROWBETA(Y4, Y5) \
	ROWBETA(Y6, Y7) \
	ROWBETA(Y8, Y9) \
	ROWBETA(Y10, Y11) \
	ROWBETA(Y12, Y13) \
	ROWBETA(Y14, Y15) \
	VZEROUPPER \
	RET \
storezero: \
	ROWZERO(Y4, Y5) \
	ROWZERO(Y6, Y7) \
	ROWZERO(Y8, Y9) \
	ROWZERO(Y10, Y11) \
	ROWZERO(Y12, Y13) \
	ROWZERO(Y14, Y15) \
	VZEROUPPER \
	RET

#define PREFETCHC() \
	MOVQ       DX, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9) \
	ADDQ       R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9) \
	ADDQ       R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9) \
	ADDQ       R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9) \
	ADDQ       R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9) \
	ADDQ       R8, R9 \
	PREFETCHT0 (R9) \
	PREFETCHT0 63(R9)

#define ZEROACC() \
	VXORPS Y4, Y4, Y4 \
	VXORPS Y5, Y5, Y5 \
	VXORPS Y6, Y6, Y6 \
	VXORPS Y7, Y7, Y7 \
	VXORPS Y8, Y8, Y8 \
	VXORPS Y9, Y9, Y9 \
	VXORPS Y10, Y10, Y10 \
	VXORPS Y11, Y11, Y11 \
	VXORPS Y12, Y12, Y12 \
	VXORPS Y13, Y13, Y13 \
	VXORPS Y14, Y14, Y14 \
	VXORPS Y15, Y15, Y15

// func sgemmKernel6x16AVX2(k int, a, b, c *float32, ldc int, alpha, beta float32)
TEXT ·sgemmKernel6x16AVX2(SB), NOSPLIT, $0-48
	MOVQ k+0(FP), CX
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DI
	MOVQ c+24(FP), DX
	MOVQ ldc+32(FP), R8
	SHLQ $2, R8

	PREFETCHC()
	ZEROACC()

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   tail

loop4:
	STEP6x16(0, 0)
	STEP6x16(24, 64)
	STEP6x16(48, 128)
	STEP6x16(72, 192)
	ADDQ $96, SI
	ADDQ $256, DI
	DECQ BX
	JNZ  loop4

tail:
	ANDQ $3, CX
	JZ   store

loop1:
	STEP6x16(0, 0)
	ADDQ $24, SI
	ADDQ $64, DI
	DECQ CX
	JNZ  loop1

store:
	STOREC()


// One step of the 6×16 tile with A and B read in place: row i of the
// step's A at SI + i·R12 for i < 3 and R13 + (i-3)·R12 after, both
// advancing by R14; B's row at DI, advancing by R11.
#define STEPS6x16() \
	VMOVUPS      (DI), Y0                \
	VMOVUPS      32(DI), Y1              \
	VBROADCASTSS (SI), Y2                \
	VFMADD231PS  Y0, Y2, Y4              \
	VFMADD231PS  Y1, Y2, Y5              \
	VBROADCASTSS (SI)(R12*1), Y3         \
	VFMADD231PS  Y0, Y3, Y6              \
	VFMADD231PS  Y1, Y3, Y7              \
	VBROADCASTSS (SI)(R12*2), Y2         \
	VFMADD231PS  Y0, Y2, Y8              \
	VFMADD231PS  Y1, Y2, Y9              \
	VBROADCASTSS (R13), Y3               \
	VFMADD231PS  Y0, Y3, Y10             \
	VFMADD231PS  Y1, Y3, Y11             \
	VBROADCASTSS (R13)(R12*1), Y2        \
	VFMADD231PS  Y0, Y2, Y12             \
	VFMADD231PS  Y1, Y2, Y13             \
	VBROADCASTSS (R13)(R12*2), Y3        \
	VFMADD231PS  Y0, Y3, Y14             \
	VFMADD231PS  Y1, Y3, Y15             \
	ADDQ         R14, SI                 \
	ADDQ         R14, R13                \
	ADDQ         R11, DI

// func sgemmKernel6x16StridedAVX2(k int, a, b, c *float32, ldc int, alpha, beta float32, rsa, csa, ldb int)
TEXT ·sgemmKernel6x16StridedAVX2(SB), NOSPLIT, $0-72
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
	LEAQ (R12)(R12*2), R13
	ADDQ SI, R13

	PREFETCHC()
	ZEROACC()

	MOVQ CX, BX
	SHRQ $2, BX
	JZ   stail

sloop4:
	STEPS6x16()
	STEPS6x16()
	STEPS6x16()
	STEPS6x16()
	DECQ BX
	JNZ  sloop4

stail:
	ANDQ $3, CX
	JZ   sstore

sloop1:
	STEPS6x16()
	DECQ CX
	JNZ  sloop1

sstore:
	STOREC()

// func sgemmPackT8AVX2(dst, src *float32, ld, kc, w int)
//
// For r < 8 and p < kc (a multiple of 8): dst[p·w + r] = src[r·ld + p].
// Eight rows are transposed eight columns at a time in registers.
TEXT ·sgemmPackT8AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ kc+24(FP), CX
	SHRQ $3, CX
	JZ   tdone
	MOVQ w+32(FP), R9
	SHLQ $2, R9
	LEAQ (R8)(R8*2), R10
	LEAQ (SI)(R8*4), R11

tloop:
	VMOVUPS (SI), Y0
	VMOVUPS (SI)(R8*1), Y1
	VMOVUPS (SI)(R8*2), Y2
	VMOVUPS (SI)(R10*1), Y3
	VMOVUPS (R11), Y4
	VMOVUPS (R11)(R8*1), Y5
	VMOVUPS (R11)(R8*2), Y6
	VMOVUPS (R11)(R10*1), Y7

	// Pairs of rows interleaved: Y8 = r0p0 r1p0 r0p1 r1p1 | r0p4 r1p4 r0p5 r1p5.
	VUNPCKLPS Y1, Y0, Y8
	VUNPCKHPS Y1, Y0, Y9
	VUNPCKLPS Y3, Y2, Y10
	VUNPCKHPS Y3, Y2, Y11
	VUNPCKLPS Y5, Y4, Y12
	VUNPCKHPS Y5, Y4, Y13
	VUNPCKLPS Y7, Y6, Y14
	VUNPCKHPS Y7, Y6, Y15

	// Quads: Y0 = r0p0 r1p0 r2p0 r3p0 | r0p4 r1p4 r2p4 r3p4.
	VSHUFPS $0x44, Y10, Y8, Y0
	VSHUFPS $0xEE, Y10, Y8, Y1
	VSHUFPS $0x44, Y11, Y9, Y2
	VSHUFPS $0xEE, Y11, Y9, Y3
	VSHUFPS $0x44, Y14, Y12, Y4
	VSHUFPS $0xEE, Y14, Y12, Y5
	VSHUFPS $0x44, Y15, Y13, Y6
	VSHUFPS $0xEE, Y15, Y13, Y7

	// Halves joined: one register per column p, rows 0 to 7.
	VPERM2F128 $0x20, Y4, Y0, Y8
	VPERM2F128 $0x20, Y5, Y1, Y9
	VPERM2F128 $0x20, Y6, Y2, Y10
	VPERM2F128 $0x20, Y7, Y3, Y11
	VPERM2F128 $0x31, Y4, Y0, Y12
	VPERM2F128 $0x31, Y5, Y1, Y13
	VPERM2F128 $0x31, Y6, Y2, Y14
	VPERM2F128 $0x31, Y7, Y3, Y15

	VMOVUPS Y8, (DI)
	VMOVUPS Y9, (DI)(R9*1)
	LEAQ    (DI)(R9*2), R12
	VMOVUPS Y10, (R12)
	VMOVUPS Y11, (R12)(R9*1)
	LEAQ    (R12)(R9*2), R12
	VMOVUPS Y12, (R12)
	VMOVUPS Y13, (R12)(R9*1)
	LEAQ    (R12)(R9*2), R12
	VMOVUPS Y14, (R12)
	VMOVUPS Y15, (R12)(R9*1)
	LEAQ    (R12)(R9*2), DI
	ADDQ    $32, SI
	ADDQ    $32, R11
	DECQ    CX
	JNZ     tloop

tdone:
	VZEROUPPER
	RET

// Masks for the last, partial vector of a row: 8 lanes on, then 8 off.
DATA sgemmMask<>+0(SB)/4, $0xffffffff
DATA sgemmMask<>+4(SB)/4, $0xffffffff
DATA sgemmMask<>+8(SB)/4, $0xffffffff
DATA sgemmMask<>+12(SB)/4, $0xffffffff
DATA sgemmMask<>+16(SB)/4, $0xffffffff
DATA sgemmMask<>+20(SB)/4, $0xffffffff
DATA sgemmMask<>+24(SB)/4, $0xffffffff
DATA sgemmMask<>+28(SB)/4, $0xffffffff
DATA sgemmMask<>+32(SB)/4, $0
DATA sgemmMask<>+36(SB)/4, $0
DATA sgemmMask<>+40(SB)/4, $0
DATA sgemmMask<>+44(SB)/4, $0
DATA sgemmMask<>+48(SB)/4, $0
DATA sgemmMask<>+52(SB)/4, $0
DATA sgemmMask<>+56(SB)/4, $0
DATA sgemmMask<>+60(SB)/4, $0
GLOBL sgemmMask<>(SB), RODATA|NOPTR, $64

// func sgemmPackN8AVX2(dst, src *float32, ld, kc, w, n int)
//
// For p < kc and j < w (a multiple of 8): dst[p·w + j] = src[p·ld + j] if
// j < n, else 0. Lanes past n are neither read nor stored from src.
TEXT ·sgemmPackN8AVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ ld+16(FP), R8
	SHLQ $2, R8
	MOVQ kc+24(FP), CX
	MOVQ w+32(FP), R9
	SHRQ $3, R9       // vectors per row
	MOVQ n+40(FP), R12
	MOVQ R12, R13
	SHRQ $3, R13      // whole vectors from src
	ANDQ $7, R12      // lanes in the partial one
	LEAQ sgemmMask<>(SB), AX
	MOVQ $8, BX
	SUBQ R12, BX
	VMOVDQU (AX)(BX*4), Y15
	VXORPS  Y14, Y14, Y14
	TESTQ   CX, CX
	JZ      ndone

nrow:
	MOVQ  SI, R10
	MOVQ  R13, R11
	TESTQ R11, R11
	JZ    npart

nfull:
	VMOVUPS (R10), Y0
	VMOVUPS Y0, (DI)
	ADDQ    $32, R10
	ADDQ    $32, DI
	DECQ    R11
	JNZ     nfull

npart:
	MOVQ  R9, R11
	SUBQ  R13, R11 // vectors left in the row
	JZ    nnext
	TESTQ R12, R12
	JZ    nzero
	VMASKMOVPS (R10), Y15, Y0
	VMOVUPS    Y0, (DI)
	ADDQ       $32, DI
	DECQ       R11
	JZ         nnext

nzero:
	VMOVUPS Y14, (DI)
	ADDQ    $32, DI
	DECQ    R11
	JNZ     nzero

nnext:
	ADDQ R8, SI
	DECQ CX
	JNZ  nrow

ndone:
	VZEROUPPER
	RET
