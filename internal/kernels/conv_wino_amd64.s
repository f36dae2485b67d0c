//go:build !noasm

#include "textflag.h"

// The Winograd transforms of conv_wino.go on 8 channels at a time (c is a
// multiple of 8), with the additions of the Go code in its order, so that
// both give the same bits. Patch and tile pointers arrive in an array and
// are loaded as needed; V and M are 16 planes ld floats apart, addressed as
// P_j + r·(4·ld) from four column pointers P_j = base + j·ld.

// PTR loads pointer k of the array at SI into R9.
#define PTR(k) MOVQ (8*k)(SI), R9

// ACC loads pointer k of winoGradInAVX2's acc array into R9.
#define ACC(k) MOVQ acc+8(FP), R9; MOVQ (8*k)(R9), R9

// COLS sets DI, DX, R10, R11 to base+AX + j·ld bytes (ld in BX), j < 4.
#define COLS(base) LEAQ (base)(AX*1), DI; LEAQ (DI)(BX*1), DX; LEAQ (DX)(BX*1), R10; LEAQ (R10)(BX*1), R11

// func winoInAVX2(v *float32, ld int, src *[16]*float32, c int)
TEXT ·winoInAVX2(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), R8
	MOVQ ld+8(FP), BX
	SHLQ $2, BX
	MOVQ src+16(FP), SI
	MOVQ c+24(FP), CX
	SHLQ $2, CX
	LEAQ (BX*4), R12          // 4·ld bytes: one row of ξ
	LEAQ (R12)(R12*2), R13    // 12·ld bytes
	XORQ AX, AX

inloop:
	CMPQ AX, CX
	JGE  indone
	COLS(R8)

	// Row 0: t_j = d[0][j] - d[2][j].
	PTR(0)
	VMOVUPS (R9)(AX*1), Y0
	PTR(8)
	VSUBPS  (R9)(AX*1), Y0, Y0
	PTR(1)
	VMOVUPS (R9)(AX*1), Y1
	PTR(9)
	VSUBPS  (R9)(AX*1), Y1, Y1
	PTR(2)
	VMOVUPS (R9)(AX*1), Y2
	PTR(10)
	VSUBPS  (R9)(AX*1), Y2, Y2
	PTR(3)
	VMOVUPS (R9)(AX*1), Y3
	PTR(11)
	VSUBPS  (R9)(AX*1), Y3, Y3
	VSUBPS  Y2, Y0, Y4
	VADDPS  Y2, Y1, Y5
	VSUBPS  Y1, Y2, Y6
	VSUBPS  Y3, Y1, Y7
	VMOVUPS Y4, (DI)
	VMOVUPS Y5, (DX)
	VMOVUPS Y6, (R10)
	VMOVUPS Y7, (R11)

	// Row 1: t_j = d[1][j] + d[2][j].
	PTR(4)
	VMOVUPS (R9)(AX*1), Y0
	PTR(8)
	VADDPS  (R9)(AX*1), Y0, Y0
	PTR(5)
	VMOVUPS (R9)(AX*1), Y1
	PTR(9)
	VADDPS  (R9)(AX*1), Y1, Y1
	PTR(6)
	VMOVUPS (R9)(AX*1), Y2
	PTR(10)
	VADDPS  (R9)(AX*1), Y2, Y2
	PTR(7)
	VMOVUPS (R9)(AX*1), Y3
	PTR(11)
	VADDPS  (R9)(AX*1), Y3, Y3
	VSUBPS  Y2, Y0, Y4
	VADDPS  Y2, Y1, Y5
	VSUBPS  Y1, Y2, Y6
	VSUBPS  Y3, Y1, Y7
	VMOVUPS Y4, (DI)(R12*1)
	VMOVUPS Y5, (DX)(R12*1)
	VMOVUPS Y6, (R10)(R12*1)
	VMOVUPS Y7, (R11)(R12*1)

	// Row 2: t_j = d[2][j] - d[1][j].
	PTR(8)
	VMOVUPS (R9)(AX*1), Y0
	PTR(4)
	VSUBPS  (R9)(AX*1), Y0, Y0
	PTR(9)
	VMOVUPS (R9)(AX*1), Y1
	PTR(5)
	VSUBPS  (R9)(AX*1), Y1, Y1
	PTR(10)
	VMOVUPS (R9)(AX*1), Y2
	PTR(6)
	VSUBPS  (R9)(AX*1), Y2, Y2
	PTR(11)
	VMOVUPS (R9)(AX*1), Y3
	PTR(7)
	VSUBPS  (R9)(AX*1), Y3, Y3
	VSUBPS  Y2, Y0, Y4
	VADDPS  Y2, Y1, Y5
	VSUBPS  Y1, Y2, Y6
	VSUBPS  Y3, Y1, Y7
	VMOVUPS Y4, (DI)(R12*2)
	VMOVUPS Y5, (DX)(R12*2)
	VMOVUPS Y6, (R10)(R12*2)
	VMOVUPS Y7, (R11)(R12*2)

	// Row 3: t_j = d[1][j] - d[3][j].
	PTR(4)
	VMOVUPS (R9)(AX*1), Y0
	PTR(12)
	VSUBPS  (R9)(AX*1), Y0, Y0
	PTR(5)
	VMOVUPS (R9)(AX*1), Y1
	PTR(13)
	VSUBPS  (R9)(AX*1), Y1, Y1
	PTR(6)
	VMOVUPS (R9)(AX*1), Y2
	PTR(14)
	VSUBPS  (R9)(AX*1), Y2, Y2
	PTR(7)
	VMOVUPS (R9)(AX*1), Y3
	PTR(15)
	VSUBPS  (R9)(AX*1), Y3, Y3
	VSUBPS  Y2, Y0, Y4
	VADDPS  Y2, Y1, Y5
	VSUBPS  Y1, Y2, Y6
	VSUBPS  Y3, Y1, Y7
	VMOVUPS Y4, (DI)(R13*1)
	VMOVUPS Y5, (DX)(R13*1)
	VMOVUPS Y6, (R10)(R13*1)
	VMOVUPS Y7, (R11)(R13*1)

	ADDQ $32, AX
	JMP  inloop

indone:
	VZEROUPPER
	RET

// func winoOutAVX2(dst *[4]*float32, m *float32, ld int, bias *float32, c int, relu bool)
TEXT ·winoOutAVX2(SB), NOSPLIT, $0-41
	MOVQ m+8(FP), R8
	MOVQ ld+16(FP), BX
	SHLQ $2, BX
	MOVQ bias+24(FP), R13
	MOVQ c+32(FP), CX
	SHLQ $2, CX
	MOVBQZX relu+40(FP), R12
	LEAQ (BX*4), R9           // 4·ld bytes
	VXORPS Y15, Y15, Y15
	XORQ AX, AX

outloop:
	CMPQ AX, CX
	JGE  outdone
	COLS(R8)
	// s0_j = (m[j] + m[4+j]) + m[8+j]; s1_j = (m[4+j] - m[8+j]) - m[12+j].
	// Rows of ξ are R9 bytes apart: r=1 at (P)(R9*1), r=2 at (P)(R9*2), r=3 at 3·R9.
	LEAQ (R9)(R9*2), SI
	VMOVUPS (DI), Y0
	VADDPS  (DI)(R9*1), Y0, Y0
	VADDPS  (DI)(R9*2), Y0, Y0
	VMOVUPS (DX), Y1
	VADDPS  (DX)(R9*1), Y1, Y1
	VADDPS  (DX)(R9*2), Y1, Y1
	VMOVUPS (R10), Y2
	VADDPS  (R10)(R9*1), Y2, Y2
	VADDPS  (R10)(R9*2), Y2, Y2
	VMOVUPS (R11), Y3
	VADDPS  (R11)(R9*1), Y3, Y3
	VADDPS  (R11)(R9*2), Y3, Y3
	VMOVUPS (DI)(R9*1), Y4
	VSUBPS  (DI)(R9*2), Y4, Y4
	VSUBPS  (DI)(SI*1), Y4, Y4
	VMOVUPS (DX)(R9*1), Y5
	VSUBPS  (DX)(R9*2), Y5, Y5
	VSUBPS  (DX)(SI*1), Y5, Y5
	VMOVUPS (R10)(R9*1), Y6
	VSUBPS  (R10)(R9*2), Y6, Y6
	VSUBPS  (R10)(SI*1), Y6, Y6
	VMOVUPS (R11)(R9*1), Y7
	VSUBPS  (R11)(R9*2), Y7, Y7
	VSUBPS  (R11)(SI*1), Y7, Y7
	// y_r0 = (s_r0 + s_r1) + s_r2; y_r1 = (s_r1 - s_r2) - s_r3.
	VADDPS Y1, Y0, Y8
	VADDPS Y2, Y8, Y8
	VSUBPS Y2, Y1, Y9
	VSUBPS Y3, Y9, Y9
	VADDPS Y5, Y4, Y10
	VADDPS Y6, Y10, Y10
	VSUBPS Y6, Y5, Y11
	VSUBPS Y7, Y11, Y11
	TESTQ R13, R13
	JZ    outnobias
	VMOVUPS (R13)(AX*1), Y12
	VADDPS  Y12, Y8, Y8
	VADDPS  Y12, Y9, Y9
	VADDPS  Y12, Y10, Y10
	VADDPS  Y12, Y11, Y11

outnobias:
	TESTQ R12, R12
	JZ    outstore
	VMAXPS Y8, Y15, Y8
	VMAXPS Y9, Y15, Y9
	VMAXPS Y10, Y15, Y10
	VMAXPS Y11, Y15, Y11

outstore:
	MOVQ    dst+0(FP), SI
	MOVQ    0(SI), DI
	VMOVUPS Y8, (DI)(AX*1)
	MOVQ    8(SI), DI
	VMOVUPS Y9, (DI)(AX*1)
	MOVQ    16(SI), DI
	VMOVUPS Y10, (DI)(AX*1)
	MOVQ    24(SI), DI
	VMOVUPS Y11, (DI)(AX*1)
	ADDQ    $32, AX
	JMP     outloop

outdone:
	VZEROUPPER
	RET

// func winoGradOutAVX2(m *float32, ld int, dy *[4]*float32, y *[4]*float32, db *float32, c int, relu bool)
TEXT ·winoGradOutAVX2(SB), NOSPLIT, $0-49
	MOVQ m+0(FP), R8
	MOVQ ld+8(FP), BX
	SHLQ $2, BX
	MOVQ dy+16(FP), SI
	MOVQ y+24(FP), R13
	MOVQ c+40(FP), CX
	SHLQ $2, CX
	MOVBQZX relu+48(FP), R12
	VXORPS  Y15, Y15, Y15
	VPCMPEQD Y14, Y14, Y14
	VPSLLD  $31, Y14, Y14     // the sign bit
	XORQ AX, AX

goloop:
	CMPQ AX, CX
	JGE  godone
	PTR(0)
	VMOVUPS (R9)(AX*1), Y0
	PTR(1)
	VMOVUPS (R9)(AX*1), Y1
	PTR(2)
	VMOVUPS (R9)(AX*1), Y2
	PTR(3)
	VMOVUPS (R9)(AX*1), Y3
	TESTQ R12, R12
	JZ    gonomask
	MOVQ    0(R13), R9
	VMOVUPS (R9)(AX*1), Y4
	VCMPPS  $0x1e, Y15, Y4, Y4
	VANDPS  Y4, Y0, Y0
	MOVQ    8(R13), R9
	VMOVUPS (R9)(AX*1), Y4
	VCMPPS  $0x1e, Y15, Y4, Y4
	VANDPS  Y4, Y1, Y1
	MOVQ    16(R13), R9
	VMOVUPS (R9)(AX*1), Y4
	VCMPPS  $0x1e, Y15, Y4, Y4
	VANDPS  Y4, Y2, Y2
	MOVQ    24(R13), R9
	VMOVUPS (R9)(AX*1), Y4
	VCMPPS  $0x1e, Y15, Y4, Y4
	VANDPS  Y4, Y3, Y3

gonomask:
	MOVQ  db+32(FP), R9
	TESTQ R9, R9
	JZ    gonobias
	VMOVUPS (R9)(AX*1), Y4
	VADDPS  Y0, Y4, Y4
	VADDPS  Y1, Y4, Y4
	VADDPS  Y2, Y4, Y4
	VADDPS  Y3, Y4, Y4
	VMOVUPS Y4, (R9)(AX*1)

gonobias:
	// Down the columns: q0j = e0j, q1j = e0j + e1j, q2j = e0j - e1j,
	// q3j = -e1j, with e0j = Y(j), e1j = Y(2+j).
	VADDPS Y2, Y0, Y5         // q10
	VSUBPS Y2, Y0, Y6         // q20
	VXORPS Y14, Y2, Y7        // q30
	VADDPS Y3, Y1, Y9         // q11
	VSUBPS Y3, Y1, Y10        // q21
	VXORPS Y14, Y3, Y11       // q31
	// Along the rows: dM[4r] = q_r0, dM[4r+1] = q_r0 + q_r1,
	// dM[4r+2] = q_r0 - q_r1, dM[4r+3] = -q_r1.
	COLS(R8)
	LEAQ (BX*4), R9
	LEAQ (R9)(R9*2), R13
	// r = 0: (Y0, Y1)
	VMOVUPS Y0, (DI)
	VADDPS  Y1, Y0, Y12
	VMOVUPS Y12, (DX)
	VSUBPS  Y1, Y0, Y12
	VMOVUPS Y12, (R10)
	VXORPS  Y14, Y1, Y12
	VMOVUPS Y12, (R11)
	// r = 1: (Y5, Y9)
	VMOVUPS Y5, (DI)(R9*1)
	VADDPS  Y9, Y5, Y12
	VMOVUPS Y12, (DX)(R9*1)
	VSUBPS  Y9, Y5, Y12
	VMOVUPS Y12, (R10)(R9*1)
	VXORPS  Y14, Y9, Y12
	VMOVUPS Y12, (R11)(R9*1)
	// r = 2: (Y6, Y10)
	VMOVUPS Y6, (DI)(R9*2)
	VADDPS  Y10, Y6, Y12
	VMOVUPS Y12, (DX)(R9*2)
	VSUBPS  Y10, Y6, Y12
	VMOVUPS Y12, (R10)(R9*2)
	VXORPS  Y14, Y10, Y12
	VMOVUPS Y12, (R11)(R9*2)
	// r = 3: (Y7, Y11)
	VMOVUPS Y7, (DI)(R13*1)
	VADDPS  Y11, Y7, Y12
	VMOVUPS Y12, (DX)(R13*1)
	VSUBPS  Y11, Y7, Y12
	VMOVUPS Y12, (R10)(R13*1)
	VXORPS  Y14, Y11, Y12
	VMOVUPS Y12, (R11)(R13*1)
	MOVQ y+24(FP), R13
	ADDQ $32, AX
	JMP  goloop

godone:
	VZEROUPPER
	RET

// func winoGradInAVX2(dst, acc *[16]*float32, v *float32, ld int, c int)
// dst[k] = acc[k] + (B·dV·Bᵀ)[k]; acc[k] is dst[k] or a zero vector.
TEXT ·winoGradInAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), SI
	MOVQ v+16(FP), R8
	MOVQ ld+24(FP), BX
	SHLQ $2, BX
	MOVQ c+32(FP), CX
	SHLQ $2, CX
	LEAQ (BX*4), R12
	LEAQ (R12)(R12*2), R13
	VPCMPEQD Y14, Y14, Y14
	VPSLLD  $31, Y14, Y14
	XORQ AX, AX

giloop:
	CMPQ AX, CX
	JGE  gidone
	COLS(R8)

	// Row 0: w_j = v[j]; then dd = w0, (w1-w2)+w3, (w1+w2)-w0, -w3.
	VMOVUPS (DI), Y0
	VMOVUPS (DX), Y1
	VMOVUPS (R10), Y2
	VMOVUPS (R11), Y3
	ACC(0)
	VADDPS  (R9)(AX*1), Y0, Y4
	PTR(0)
	VMOVUPS Y4, (R9)(AX*1)
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	ACC(1)
	VADDPS  (R9)(AX*1), Y5, Y5
	PTR(1)
	VMOVUPS Y5, (R9)(AX*1)
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	ACC(2)
	VADDPS  (R9)(AX*1), Y6, Y6
	PTR(2)
	VMOVUPS Y6, (R9)(AX*1)
	VXORPS  Y14, Y3, Y7
	ACC(3)
	VADDPS  (R9)(AX*1), Y7, Y7
	PTR(3)
	VMOVUPS Y7, (R9)(AX*1)

	// Row 1: w_j = (v[4+j] - v[8+j]) + v[12+j].
	VMOVUPS (DI)(R12*1), Y0
	VSUBPS  (DI)(R12*2), Y0, Y0
	VADDPS  (DI)(R13*1), Y0, Y0
	VMOVUPS (DX)(R12*1), Y1
	VSUBPS  (DX)(R12*2), Y1, Y1
	VADDPS  (DX)(R13*1), Y1, Y1
	VMOVUPS (R10)(R12*1), Y2
	VSUBPS  (R10)(R12*2), Y2, Y2
	VADDPS  (R10)(R13*1), Y2, Y2
	VMOVUPS (R11)(R12*1), Y3
	VSUBPS  (R11)(R12*2), Y3, Y3
	VADDPS  (R11)(R13*1), Y3, Y3
	ACC(4)
	VADDPS  (R9)(AX*1), Y0, Y4
	PTR(4)
	VMOVUPS Y4, (R9)(AX*1)
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	ACC(5)
	VADDPS  (R9)(AX*1), Y5, Y5
	PTR(5)
	VMOVUPS Y5, (R9)(AX*1)
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	ACC(6)
	VADDPS  (R9)(AX*1), Y6, Y6
	PTR(6)
	VMOVUPS Y6, (R9)(AX*1)
	VXORPS  Y14, Y3, Y7
	ACC(7)
	VADDPS  (R9)(AX*1), Y7, Y7
	PTR(7)
	VMOVUPS Y7, (R9)(AX*1)

	// Row 2: w_j = (v[4+j] + v[8+j]) - v[j].
	VMOVUPS (DI)(R12*1), Y0
	VADDPS  (DI)(R12*2), Y0, Y0
	VSUBPS  (DI), Y0, Y0
	VMOVUPS (DX)(R12*1), Y1
	VADDPS  (DX)(R12*2), Y1, Y1
	VSUBPS  (DX), Y1, Y1
	VMOVUPS (R10)(R12*1), Y2
	VADDPS  (R10)(R12*2), Y2, Y2
	VSUBPS  (R10), Y2, Y2
	VMOVUPS (R11)(R12*1), Y3
	VADDPS  (R11)(R12*2), Y3, Y3
	VSUBPS  (R11), Y3, Y3
	ACC(8)
	VADDPS  (R9)(AX*1), Y0, Y4
	PTR(8)
	VMOVUPS Y4, (R9)(AX*1)
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	ACC(9)
	VADDPS  (R9)(AX*1), Y5, Y5
	PTR(9)
	VMOVUPS Y5, (R9)(AX*1)
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	ACC(10)
	VADDPS  (R9)(AX*1), Y6, Y6
	PTR(10)
	VMOVUPS Y6, (R9)(AX*1)
	VXORPS  Y14, Y3, Y7
	ACC(11)
	VADDPS  (R9)(AX*1), Y7, Y7
	PTR(11)
	VMOVUPS Y7, (R9)(AX*1)

	// Row 3: w_j = -v[12+j].
	VMOVUPS (DI)(R13*1), Y0
	VXORPS  Y14, Y0, Y0
	VMOVUPS (DX)(R13*1), Y1
	VXORPS  Y14, Y1, Y1
	VMOVUPS (R10)(R13*1), Y2
	VXORPS  Y14, Y2, Y2
	VMOVUPS (R11)(R13*1), Y3
	VXORPS  Y14, Y3, Y3
	ACC(12)
	VADDPS  (R9)(AX*1), Y0, Y4
	PTR(12)
	VMOVUPS Y4, (R9)(AX*1)
	VSUBPS  Y2, Y1, Y5
	VADDPS  Y3, Y5, Y5
	ACC(13)
	VADDPS  (R9)(AX*1), Y5, Y5
	PTR(13)
	VMOVUPS Y5, (R9)(AX*1)
	VADDPS  Y2, Y1, Y6
	VSUBPS  Y0, Y6, Y6
	ACC(14)
	VADDPS  (R9)(AX*1), Y6, Y6
	PTR(14)
	VMOVUPS Y6, (R9)(AX*1)
	VXORPS  Y14, Y3, Y7
	ACC(15)
	VADDPS  (R9)(AX*1), Y7, Y7
	PTR(15)
	VMOVUPS Y7, (R9)(AX*1)

	ADDQ $32, AX
	JMP  giloop

gidone:
	VZEROUPPER
	RET
