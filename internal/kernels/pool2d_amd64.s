//go:build !noasm

#include "textflag.h"

DATA maxPoolLanes<>+0(SB)/4, $0
DATA maxPoolLanes<>+4(SB)/4, $1
DATA maxPoolLanes<>+8(SB)/4, $2
DATA maxPoolLanes<>+12(SB)/4, $3
DATA maxPoolLanes<>+16(SB)/4, $4
DATA maxPoolLanes<>+20(SB)/4, $5
DATA maxPoolLanes<>+24(SB)/4, $6
DATA maxPoolLanes<>+28(SB)/4, $7
GLOBL maxPoolLanes<>(SB), RODATA|NOPTR, $32

// PICK replaces the best (Y0) and its offset (Y1) by the candidate Y2 and
// offv where Y2 > Y0, or Y2 is NaN and Y0 is not: MaxPool2x2Ref's rule.
#define PICK(offv) \
	VCMPPS    $0x1e, Y0, Y2, Y3; \
	VCMPPS    $3, Y2, Y2, Y4; \
	VCMPPS    $7, Y0, Y0, Y5; \
	VANDPS    Y5, Y4, Y4; \
	VORPS     Y4, Y3, Y3; \
	VBLENDVPS Y3, Y2, Y0, Y0; \
	VBLENDVPS Y3, offv, Y1, Y1

// func maxPoolRowAVX2(y *float32, idx *int32, in *float32, ow, wc, c, base int)
TEXT ·maxPoolRowAVX2(SB), NOSPLIT, $0-56
	MOVQ         y+0(FP), DI
	MOVQ         idx+8(FP), R8
	MOVQ         in+16(FP), R13
	MOVQ         ow+24(FP), CX
	MOVQ         wc+32(FP), R9
	MOVQ         c+40(FP), DX
	MOVQ         base+48(FP), R10 // flat index of the window's first pixel
	MOVQ         DX, X8
	VPBROADCASTD X8, Y8           // offset of (0,1)
	MOVQ         R9, X9
	VPBROADCASTD X9, Y9           // offset of (1,0)
	LEAQ         (R9)(DX*1), AX
	MOVQ         AX, X10
	VPBROADCASTD X10, Y10         // offset of (1,1)
	VMOVDQU      maxPoolLanes<>(SB), Y11
	SHLQ         $2, R9           // row in bytes
	MOVQ         DX, R12
	SHLQ         $2, R12          // pixel in bytes

mppixel:
	XORQ BX, BX

mpchan:
	LEAQ    (R13)(BX*1), AX
	VMOVUPS (AX), Y0
	VPXOR   Y1, Y1, Y1
	VMOVUPS (AX)(R12*1), Y2
	PICK(Y8)
	ADDQ    R9, AX
	VMOVUPS (AX), Y2
	PICK(Y9)
	VMOVUPS (AX)(R12*1), Y2
	PICK(Y10)
	VMOVUPS Y0, (DI)(BX*1)
	MOVQ    BX, AX
	SHRQ    $2, AX
	ADDQ    R10, AX
	MOVQ    AX, X12
	VPBROADCASTD X12, Y12
	VPADDD  Y11, Y12, Y12
	VPADDD  Y1, Y12, Y12
	VMOVDQU Y12, (R8)(BX*1)
	ADDQ    $32, BX
	CMPQ    BX, R12
	JLT     mpchan
	ADDQ    R12, DI
	ADDQ    R12, R8
	LEAQ    (R13)(R12*2), R13
	LEAQ    (R10)(DX*2), R10
	DECQ    CX
	JNZ     mppixel
	VZEROUPPER
	RET

// func maxPoolBackRowAVX2(pair, dy *float32, idx *int32, ow, wc, c, base int) bool
//
// For 8 channels of an output pixel, rel = idx - (window index + lane) must
// be 0, c, wc or wc+c; the window's four input pixels get dy+0 where rel
// names them and +0 elsewhere.
TEXT ·maxPoolBackRowAVX2(SB), NOSPLIT, $0-57
	MOVQ         pair+0(FP), DI
	MOVQ         dy+8(FP), SI
	MOVQ         idx+16(FP), R8
	MOVQ         ow+24(FP), CX
	MOVQ         wc+32(FP), R9
	MOVQ         c+40(FP), DX
	MOVQ         base+48(FP), R10
	MOVQ         DX, X8
	VPBROADCASTD X8, Y8           // c
	MOVQ         R9, X9
	VPBROADCASTD X9, Y9           // wc
	LEAQ         (R9)(DX*1), AX
	MOVQ         AX, X10
	VPBROADCASTD X10, Y10         // wc + c
	VMOVDQU      maxPoolLanes<>(SB), Y11
	VPXOR        Y15, Y15, Y15
	SHLQ         $2, R9           // row in bytes
	MOVQ         DX, R12
	SHLQ         $2, R12          // pixel in bytes
	XORQ         R13, R13         // output pixel offset in bytes

mbpixel:
	XORQ BX, BX

mbchan:
	MOVQ         BX, AX
	SHRQ         $2, AX
	ADDQ         R10, AX
	MOVQ         AX, X12
	VPBROADCASTD X12, Y12
	VPADDD       Y11, Y12, Y12    // flat index of (0,0) per lane
	LEAQ         (R13)(BX*1), AX
	VMOVDQU      (R8)(AX*1), Y0
	VPSUBD       Y12, Y0, Y0      // rel
	VPCMPEQD     Y15, Y0, Y1
	VPCMPEQD     Y8, Y0, Y2
	VPCMPEQD     Y9, Y0, Y3
	VPCMPEQD     Y10, Y0, Y4
	VPOR         Y2, Y1, Y5
	VPOR         Y3, Y5, Y5
	VPOR         Y4, Y5, Y5
	VMOVMSKPS    Y5, R11
	CMPQ         R11, $0xff
	JNE          mbbad
	VMOVUPS      (SI)(AX*1), Y6
	VADDPS       Y6, Y15, Y6      // 0 + dy, as the reference adds
	VANDPS       Y6, Y1, Y1
	VANDPS       Y6, Y2, Y2
	VANDPS       Y6, Y3, Y3
	VANDPS       Y6, Y4, Y4
	LEAQ         (BX)(R13*2), AX  // window's (0,0) in bytes
	ADDQ         DI, AX
	VMOVUPS      Y1, (AX)
	VMOVUPS      Y2, (AX)(R12*1)
	ADDQ         R9, AX
	VMOVUPS      Y3, (AX)
	VMOVUPS      Y4, (AX)(R12*1)
	ADDQ         $32, BX
	CMPQ         BX, R12
	JLT          mbchan
	ADDQ         R12, R13
	LEAQ         (R10)(DX*2), R10
	DECQ         CX
	JNZ          mbpixel
	VZEROUPPER
	MOVB         $1, ret+56(FP)
	RET

mbbad:
	VZEROUPPER
	MOVB $0, ret+56(FP)
	RET

// func globalMaxPoolAVX2(y *float32, idx *int32, x *float32, hw, c, base int)
//
// One image: for 8 channels at a time, the positions are compared in order
// with PICK, the offset of the best kept as p·c.
TEXT ·globalMaxPoolAVX2(SB), NOSPLIT, $0-48
	MOVQ         y+0(FP), DI
	MOVQ         idx+8(FP), R8
	MOVQ         x+16(FP), SI
	MOVQ         hw+24(FP), CX
	MOVQ         c+32(FP), DX
	MOVQ         base+40(FP), R10
	MOVQ         DX, X8
	VPBROADCASTD X8, Y8           // c: the offset step between positions
	VMOVDQU      maxPoolLanes<>(SB), Y11
	MOVQ         DX, R12
	SHLQ         $2, R12          // position in bytes
	XORQ         BX, BX           // channel offset in bytes

gmchan:
	LEAQ    (SI)(BX*1), AX
	VMOVUPS (AX), Y0
	VPXOR   Y1, Y1, Y1
	VPXOR   Y9, Y9, Y9            // offset of the current position
	MOVQ    CX, R9
	DECQ    R9
	JZ      gmstore

gmpos:
	ADDQ    R12, AX
	VPADDD  Y8, Y9, Y9
	VMOVUPS (AX), Y2
	PICK(Y9)
	DECQ    R9
	JNZ     gmpos

gmstore:
	VMOVUPS      Y0, (DI)(BX*1)
	MOVQ         BX, AX
	SHRQ         $2, AX
	ADDQ         R10, AX
	MOVQ         AX, X12
	VPBROADCASTD X12, Y12
	VPADDD       Y11, Y12, Y12
	VPADDD       Y1, Y12, Y12
	VMOVDQU      Y12, (R8)(BX*1)
	ADDQ         $32, BX
	CMPQ         BX, R12
	JLT          gmchan
	VZEROUPPER
	RET
