//go:build !noasm

#include "textflag.h"

// func im2colRowAVX2(dst *float32, src *[3]*float32, w, c int, nt bool)
//
// For output pixel xx and patch row ky, the 3c floats at dst are: zeros for
// the input pixels left of the image, then input pixels lo..hi-1 of row
// src[ky] (lo = max(xx-1, 0), hi = min(xx+2, w)), one contiguous run, then
// zeros for those right of it; all zeros when src[ky] is padding.
TEXT ·im2colRowAVX2(SB), NOSPLIT, $0-33
	MOVQ    dst+0(FP), DI
	MOVQ    src+8(FP), R8
	MOVQ    w+16(FP), CX
	MOVQ    c+24(FP), DX
	SHLQ    $2, DX            // DX = c in bytes
	LEAQ    (DX)(DX*2), R10   // R10 = 3c bytes: one patch row
	MOVBLZX nt+32(FP), R9
	VXORPS  Y15, Y15, Y15
	XORQ    R11, R11          // xx

i2cpixel:
	XORQ R12, R12             // ky

i2crow:
	XORQ  BX, BX              // offset in the patch row
	MOVQ  (R8)(R12*8), SI
	MOVQ  R10, R14            // padding row: all zeros
	TESTQ SI, SI
	JZ    i2czero1
	MOVQ  R11, R13
	DECQ  R13
	CMOVQLT BX, R13           // R13 = lo
	LEAQ  2(R11), AX
	CMPQ  AX, CX
	CMOVQGT CX, AX            // AX = hi
	SUBQ  R13, AX
	IMULQ DX, AX              // AX = run length in bytes
	MOVQ  R13, R14
	SUBQ  R11, R14
	INCQ  R14
	IMULQ DX, R14             // R14 = leading zeros in bytes
	IMULQ DX, R13
	ADDQ  SI, R13             // R13 = &input pixel lo
	LEAQ  (R14)(AX*1), SI     // SI = end of the run in the patch row

i2czero1:
	TESTQ R9, R9
	JNZ   i2czero1nt

i2czero1loop:
	CMPQ    BX, R14
	JGE     i2ccopy
	VMOVUPS Y15, (DI)(BX*1)
	ADDQ    $32, BX
	JMP     i2czero1loop

i2czero1nt:
	CMPQ     BX, R14
	JGE      i2ccopy
	VMOVNTPS Y15, (DI)(BX*1)
	ADDQ     $32, BX
	JMP      i2czero1nt

i2ccopy:
	CMPQ  R14, R10
	JGE   i2cnext             // a padding row is done
	LEAQ  (DI)(BX*1), R14     // R14 = where the run goes
	SUBQ  BX, SI              // SI = run length in bytes
	XORQ  AX, AX
	TESTQ R9, R9
	JNZ   i2ccopynt

i2ccopy4:
	LEAQ    128(AX), BX
	CMPQ    BX, SI
	JGT     i2ccopy1
	VMOVUPS (R13)(AX*1), Y0
	VMOVUPS 32(R13)(AX*1), Y1
	VMOVUPS 64(R13)(AX*1), Y2
	VMOVUPS 96(R13)(AX*1), Y3
	VMOVUPS Y0, (R14)(AX*1)
	VMOVUPS Y1, 32(R14)(AX*1)
	VMOVUPS Y2, 64(R14)(AX*1)
	VMOVUPS Y3, 96(R14)(AX*1)
	MOVQ    BX, AX
	JMP     i2ccopy4

i2ccopy1:
	CMPQ    AX, SI
	JGE     i2czero2
	VMOVUPS (R13)(AX*1), Y0
	VMOVUPS Y0, (R14)(AX*1)
	ADDQ    $32, AX
	JMP     i2ccopy1

i2ccopynt:
	LEAQ     128(AX), BX
	CMPQ     BX, SI
	JGT      i2ccopynt1
	VMOVUPS  (R13)(AX*1), Y0
	VMOVUPS  32(R13)(AX*1), Y1
	VMOVUPS  64(R13)(AX*1), Y2
	VMOVUPS  96(R13)(AX*1), Y3
	VMOVNTPS Y0, (R14)(AX*1)
	VMOVNTPS Y1, 32(R14)(AX*1)
	VMOVNTPS Y2, 64(R14)(AX*1)
	VMOVNTPS Y3, 96(R14)(AX*1)
	MOVQ     BX, AX
	JMP      i2ccopynt

i2ccopynt1:
	CMPQ     AX, SI
	JGE      i2czero2
	VMOVUPS  (R13)(AX*1), Y0
	VMOVNTPS Y0, (R14)(AX*1)
	ADDQ     $32, AX
	JMP      i2ccopynt1

i2czero2:
	SUBQ  DI, R14
	LEAQ  (R14)(SI*1), BX     // BX = end of the run in the patch row
	TESTQ R9, R9
	JNZ   i2czero2nt

i2czero2loop:
	CMPQ    BX, R10
	JGE     i2cnext
	VMOVUPS Y15, (DI)(BX*1)
	ADDQ    $32, BX
	JMP     i2czero2loop

i2czero2nt:
	CMPQ     BX, R10
	JGE      i2cnext
	VMOVNTPS Y15, (DI)(BX*1)
	ADDQ     $32, BX
	JMP      i2czero2nt

i2cnext:
	ADDQ R10, DI
	INCQ R12
	CMPQ R12, $3
	JLT  i2crow
	INCQ R11
	CMPQ R11, CX
	JLT  i2cpixel
	TESTQ R9, R9
	JZ   i2cdone
	SFENCE

i2cdone:
	VZEROUPPER
	RET

// func col2imRowAVX2(dst *float32, q *[3]*float32, nq, w, c int, pf *float32)
//
// Pixel ix sums, for each q in order, q[ix·9c - 7c] (when ix > 0),
// q[ix·9c + c] and q[ix·9c + 9c] (when ix < w-1), starting from +0 as
// Col2im3x3Ref does; 32 channels at a time, then 8. Before each pixel it
// prefetches the 9c floats at pf + ix·9c (unless pf is nil): the col row
// this gather will need two image rows later, which the hardware
// prefetcher does not foresee in this access pattern.
TEXT ·col2imRowAVX2(SB), NOSPLIT, $0-48
	MOVQ dst+0(FP), DI
	MOVQ q+8(FP), R8
	MOVQ nq+16(FP), R9
	MOVQ w+24(FP), CX
	MOVQ c+32(FP), DX
	SHLQ $2, DX               // DX = c in bytes
	LEAQ (DX)(DX*8), R10      // R10 = 9c bytes: one col row
	MOVQ DX, R12
	SHLQ $3, R12
	SUBQ DX, R12              // R12 = 7c bytes
	XORQ R11, R11             // ix
	XORQ R13, R13             // ix·9c bytes

c2ipixel:
	MOVQ  pf+40(FP), SI
	TESTQ SI, SI
	JZ    c2ichans
	ADDQ  R13, SI
	XORQ  BX, BX

c2ipf:
	PREFETCHT0 (SI)(BX*1)
	ADDQ       $64, BX
	CMPQ       BX, R10
	JLT        c2ipf

c2ichans:
	XORQ BX, BX               // channel offset in bytes

c2ichan32:
	LEAQ   128(BX), AX
	CMPQ   AX, DX
	JGT    c2ichan8
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   R14, R14           // which q

c2iq32:
	MOVQ  (R8)(R14*8), SI
	ADDQ  R13, SI
	ADDQ  BX, SI
	TESTQ R11, R11
	JZ    c2inoleft32
	MOVQ  SI, AX
	SUBQ  R12, AX
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3

c2inoleft32:
	LEAQ   (SI)(DX*1), AX
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3
	LEAQ   1(R11), AX
	CMPQ   AX, CX
	JGE    c2inoright32
	LEAQ   (SI)(R10*1), AX
	VADDPS (AX), Y0, Y0
	VADDPS 32(AX), Y1, Y1
	VADDPS 64(AX), Y2, Y2
	VADDPS 96(AX), Y3, Y3

c2inoright32:
	INCQ R14
	CMPQ R14, R9
	JLT  c2iq32
	VMOVUPS Y0, (DI)(BX*1)
	VMOVUPS Y1, 32(DI)(BX*1)
	VMOVUPS Y2, 64(DI)(BX*1)
	VMOVUPS Y3, 96(DI)(BX*1)
	ADDQ    $128, BX
	JMP     c2ichan32

c2ichan8:
	CMPQ   BX, DX
	JGE    c2inext
	VXORPS Y0, Y0, Y0
	XORQ   R14, R14

c2iq8:
	MOVQ  (R8)(R14*8), SI
	ADDQ  R13, SI
	ADDQ  BX, SI
	TESTQ R11, R11
	JZ    c2inoleft8
	MOVQ  SI, AX
	SUBQ  R12, AX
	VADDPS (AX), Y0, Y0

c2inoleft8:
	VADDPS (SI)(DX*1), Y0, Y0
	LEAQ   1(R11), AX
	CMPQ   AX, CX
	JGE    c2inoright8
	VADDPS (SI)(R10*1), Y0, Y0

c2inoright8:
	INCQ R14
	CMPQ R14, R9
	JLT  c2iq8
	VMOVUPS Y0, (DI)(BX*1)
	ADDQ    $32, BX
	JMP     c2ichan8

c2inext:
	ADDQ DX, DI
	ADDQ R10, R13
	INCQ R11
	CMPQ R11, CX
	JLT  c2ipixel
	VZEROUPPER
	RET
