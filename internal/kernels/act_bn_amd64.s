//go:build !noasm

#include "textflag.h"

// Batch norm. Operand order follows the references (see act_amd64.s); the
// float64 sums add each row to the running sum, starting from +0.

// func bnSumAVX2(sum *float64, x *float32, rows, w, stride int)
TEXT ·bnSumAVX2(SB), NOSPLIT, $0-40
	MOVQ   sum+0(FP), DI
	MOVQ   x+8(FP), SI
	MOVQ   rows+16(FP), DX
	MOVQ   w+24(FP), CX
	MOVQ   stride+32(FP), R9
	SHLQ   $2, R9
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	CMPQ   CX, $16
	JLT    sum8

sum16:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      R9, SI
	DECQ      DX
	JNZ       sum16
	VMOVUPD   Y2, 64(DI)
	VMOVUPD   Y3, 96(DI)
	JMP       sumstore

sum8:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	ADDQ      R9, SI
	DECQ      DX
	JNZ       sum8

sumstore:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VZEROUPPER
	RET

// func bnSqDevAVX2(sum *float64, x *float32, mean *float64, rows, w, stride int)
TEXT ·bnSqDevAVX2(SB), NOSPLIT, $0-48
	MOVQ    sum+0(FP), DI
	MOVQ    x+8(FP), SI
	MOVQ    mean+16(FP), R8
	MOVQ    rows+24(FP), DX
	MOVQ    w+32(FP), CX
	MOVQ    stride+40(FP), R9
	SHLQ    $2, R9
	VXORPD  Y0, Y0, Y0
	VXORPD  Y1, Y1, Y1
	VXORPD  Y2, Y2, Y2
	VXORPD  Y3, Y3, Y3
	VMOVUPD (R8), Y8
	VMOVUPD 32(R8), Y9
	CMPQ    CX, $16
	JLT     sq8
	VMOVUPD 64(R8), Y10
	VMOVUPD 96(R8), Y11

sq16:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VCVTPS2PD 32(SI), Y6
	VCVTPS2PD 48(SI), Y7
	VSUBPD    Y8, Y4, Y4
	VSUBPD    Y9, Y5, Y5
	VSUBPD    Y10, Y6, Y6
	VSUBPD    Y11, Y7, Y7
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VMULPD    Y6, Y6, Y6
	VMULPD    Y7, Y7, Y7
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VADDPD    Y6, Y2, Y2
	VADDPD    Y7, Y3, Y3
	ADDQ      R9, SI
	DECQ      DX
	JNZ       sq16
	VMOVUPD   Y2, 64(DI)
	VMOVUPD   Y3, 96(DI)
	JMP       sqstore

sq8:
	VCVTPS2PD (SI), Y4
	VCVTPS2PD 16(SI), Y5
	VSUBPD    Y8, Y4, Y4
	VSUBPD    Y9, Y5, Y5
	VMULPD    Y4, Y4, Y4
	VMULPD    Y5, Y5, Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	ADDQ      R9, SI
	DECQ      DX
	JNZ       sq8

sqstore:
	VMOVUPD Y0, (DI)
	VMOVUPD Y1, 32(DI)
	VZEROUPPER
	RET

// func bnForwardAVX2(y, xhat, x, mean, invstd, gamma, beta *float32, rows, w, stride int, relu bool)
TEXT ·bnForwardAVX2(SB), NOSPLIT, $0-81
	MOVQ    y+0(FP), DI
	MOVQ    xhat+8(FP), R13
	MOVQ    x+16(FP), SI
	MOVQ    mean+24(FP), R8
	MOVQ    invstd+32(FP), R9
	MOVQ    gamma+40(FP), R10
	MOVQ    beta+48(FP), R11
	MOVQ    rows+56(FP), DX
	MOVQ    w+64(FP), CX
	MOVQ    stride+72(FP), R12
	SHLQ    $2, R12
	MOVBLZX relu+80(FP), R14
	XORQ    BX, BX
	TESTQ   R13, R13
	SETNE   BX
	VXORPS  Y15, Y15, Y15

bnfrow:
	XORQ AX, AX

bnfcol:
	VMOVUPS (SI)(AX*4), Y0
	VSUBPS  (R8)(AX*4), Y0, Y0
	VMULPS  (R9)(AX*4), Y0, Y0
	VMOVUPS (R10)(AX*4), Y1
	VMULPS  Y0, Y1, Y1
	VADDPS  (R11)(AX*4), Y1, Y1
	TESTQ   R14, R14
	JZ      bnfnorelu
	VMAXPS  Y1, Y15, Y1

bnfnorelu:
	TESTQ   BX, BX
	JZ      bnfnoxhat
	VMOVUPS Y0, (R13)(AX*4)

bnfnoxhat:
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     bnfcol
	ADDQ    R12, SI
	ADDQ    R12, DI
	TESTQ   BX, BX
	JZ      bnfnext
	ADDQ    R12, R13

bnfnext:
	DECQ DX
	JNZ  bnfrow
	VZEROUPPER
	RET

// BSUMLOAD loads 8 columns of dy into Y0 and of xhat into Y1.
#define BSUMLOAD(off) \
	VMOVUPS off(SI), Y0; \
	VMOVUPS off(DI), Y1

// BSUMMASK zeroes dy where gamma·xhat + beta > 0 fails (Y7 is zero).
#define BSUMMASK(off) \
	VMOVUPS off(R10), Y6; \
	VMULPS  Y1, Y6, Y6; \
	VADDPS  off(R11), Y6, Y6; \
	VCMPPS  $0x1e, Y7, Y6, Y6; \
	VANDPS  Y6, Y0, Y0

// BSUMACC widens to float64 and adds g into a0 (low 4), a1 (high 4) and
// g·xhat into b0, b1.
#define BSUMACC(a0, a1, b0, b1) \
	VCVTPS2PD    X0, Y2; \
	VEXTRACTF128 $1, Y0, X3; \
	VCVTPS2PD    X3, Y3; \
	VCVTPS2PD    X1, Y4; \
	VEXTRACTF128 $1, Y1, X5; \
	VCVTPS2PD    X5, Y5; \
	VADDPD       Y2, a0, a0; \
	VADDPD       Y3, a1, a1; \
	VMULPD       Y4, Y2, Y2; \
	VMULPD       Y5, Y3, Y3; \
	VADDPD       Y2, b0, b0; \
	VADDPD       Y3, b1, b1

// func bnBackSumsAVX2(sdy, sdyx *float64, dy, xhat, gamma, beta *float32, rows, w, stride int)
TEXT ·bnBackSumsAVX2(SB), NOSPLIT, $0-72
	MOVQ   dy+16(FP), SI
	MOVQ   xhat+24(FP), DI
	MOVQ   gamma+32(FP), R10
	MOVQ   beta+40(FP), R11
	MOVQ   rows+48(FP), DX
	MOVQ   w+56(FP), CX
	MOVQ   stride+64(FP), R12
	SHLQ   $2, R12
	VXORPS Y7, Y7, Y7
	VXORPD Y8, Y8, Y8
	VXORPD Y9, Y9, Y9
	VXORPD Y10, Y10, Y10
	VXORPD Y11, Y11, Y11
	VXORPD Y12, Y12, Y12
	VXORPD Y13, Y13, Y13
	VXORPD Y14, Y14, Y14
	VXORPD Y15, Y15, Y15
	TESTQ  R11, R11
	JZ     bbplain
	CMPQ   CX, $16
	JLT    bbrelu8

bbrelu16:
	BSUMLOAD(0)
	BSUMMASK(0)
	BSUMACC(Y8, Y9, Y12, Y13)
	BSUMLOAD(32)
	BSUMMASK(32)
	BSUMACC(Y10, Y11, Y14, Y15)
	ADDQ R12, SI
	ADDQ R12, DI
	DECQ DX
	JNZ  bbrelu16
	JMP  bbstore

bbrelu8:
	BSUMLOAD(0)
	BSUMMASK(0)
	BSUMACC(Y8, Y9, Y12, Y13)
	ADDQ R12, SI
	ADDQ R12, DI
	DECQ DX
	JNZ  bbrelu8
	JMP  bbstore

bbplain:
	CMPQ CX, $16
	JLT  bbplain8

bbplain16:
	BSUMLOAD(0)
	BSUMACC(Y8, Y9, Y12, Y13)
	BSUMLOAD(32)
	BSUMACC(Y10, Y11, Y14, Y15)
	ADDQ R12, SI
	ADDQ R12, DI
	DECQ DX
	JNZ  bbplain16
	JMP  bbstore

bbplain8:
	BSUMLOAD(0)
	BSUMACC(Y8, Y9, Y12, Y13)
	ADDQ R12, SI
	ADDQ R12, DI
	DECQ DX
	JNZ  bbplain8

bbstore:
	MOVQ    sdy+0(FP), R8
	MOVQ    sdyx+8(FP), R9
	VMOVUPD Y8, (R8)
	VMOVUPD Y9, 32(R8)
	VMOVUPD Y12, (R9)
	VMOVUPD Y13, 32(R9)
	CMPQ    CX, $16
	JLT     bbdone
	VMOVUPD Y10, 64(R8)
	VMOVUPD Y11, 96(R8)
	VMOVUPD Y14, 64(R9)
	VMOVUPD Y15, 96(R9)

bbdone:
	VZEROUPPER
	RET

// func bnBackDxAVX2(dx, dy, xhat, invstd, gamma, beta, dgamma, dbeta *float32, rows, w, stride int, rinv float32)
// dx = (gamma·invstd)·((g - dbeta·rinv) - xhat·(dgamma·rinv)), g the
// (masked) dy.
TEXT ·bnBackDxAVX2(SB), NOSPLIT, $0-92
	MOVQ         dx+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         xhat+16(FP), R8
	MOVQ         invstd+24(FP), R9
	MOVQ         gamma+32(FP), R10
	MOVQ         beta+40(FP), R11
	MOVQ         dgamma+48(FP), R12
	MOVQ         dbeta+56(FP), R13
	MOVQ         rows+64(FP), DX
	MOVQ         w+72(FP), CX
	MOVQ         stride+80(FP), R14
	SHLQ         $2, R14
	VBROADCASTSS rinv+88(FP), Y14
	VXORPS       Y15, Y15, Y15

bdrow:
	XORQ AX, AX

bdcol:
	VMOVUPS (SI)(AX*4), Y0
	VMOVUPS (R8)(AX*4), Y1
	TESTQ   R11, R11
	JZ      bdnomask
	VMOVUPS (R10)(AX*4), Y2
	VMULPS  Y1, Y2, Y2
	VADDPS  (R11)(AX*4), Y2, Y2
	VCMPPS  $0x1e, Y15, Y2, Y2
	VANDPS  Y2, Y0, Y0

bdnomask:
	VMOVUPS (R10)(AX*4), Y3
	VMULPS  (R9)(AX*4), Y3, Y3
	VMOVUPS (R13)(AX*4), Y4
	VMULPS  Y14, Y4, Y4
	VMOVUPS (R12)(AX*4), Y5
	VMULPS  Y14, Y5, Y5
	VSUBPS  Y4, Y0, Y0
	VMULPS  Y5, Y1, Y1
	VSUBPS  Y1, Y0, Y0
	VMULPS  Y0, Y3, Y0
	VMOVUPS Y0, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     bdcol
	ADDQ    R14, DI
	ADDQ    R14, SI
	ADDQ    R14, R8
	DECQ    DX
	JNZ     bdrow
	VZEROUPPER
	RET
