#include "textflag.h"

// func dotInt8AVX2(a, b *int8, n int) int32
// n is a positive multiple of 32. Each step widens 16 bytes of each vector
// to int16 and multiplies-and-adds pairs into int32 lanes (VPMADDWD); two
// accumulators hide the latency of the adds.
TEXT ·dotInt8AVX2(SB), NOSPLIT, $0-28
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), DI
	MOVQ n+16(FP), CX
	VPXOR Y0, Y0, Y0
	VPXOR Y1, Y1, Y1

loop:
	VPMOVSXBW (SI), Y2
	VPMOVSXBW (DI), Y3
	VPMADDWD  Y3, Y2, Y2
	VPADDD    Y2, Y0, Y0
	VPMOVSXBW 16(SI), Y4
	VPMOVSXBW 16(DI), Y5
	VPMADDWD  Y5, Y4, Y4
	VPADDD    Y4, Y1, Y1
	ADDQ      $32, SI
	ADDQ      $32, DI
	SUBQ      $32, CX
	JNZ       loop

	VPADDD       Y1, Y0, Y0
	VEXTRACTI128 $1, Y0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+24(FP)
	RET

// func prefetchLines(p *int8, n int)
// Asks for n cache lines from p on.
TEXT ·prefetchLines(SB), NOSPLIT, $0-16
	MOVQ p+0(FP), AX
	MOVQ n+8(FP), CX
	TESTQ CX, CX
	JLE  done

more:
	PREFETCHT0 (AX)
	ADDQ       $64, AX
	DECQ       CX
	JNZ        more

done:
	RET

// func dotNibblesAVX2(nib *byte, q *int8, n int) int32
// The dot product of n dimensions (a positive multiple of 64) of 4-bit
// codes with int8 query codes. Byte j of each 32-byte block holds dimension
// j of the block's 64 in its low nibble and dimension 32+j in its high
// one, as unsigned values; VPMADDUBSW multiplies them with the query's
// signed bytes into int16 pairs, VPMADDWD widens those to int32.
TEXT ·dotNibblesAVX2(SB), NOSPLIT, $0-28
	MOVQ nib+0(FP), SI
	MOVQ q+8(FP), DI
	MOVQ n+16(FP), CX
	MOVL $0x0F0F0F0F, AX
	VMOVD AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x00010001, AX
	VMOVD AX, X14
	VPBROADCASTD X14, Y14
	VPXOR Y5, Y5, Y5

nloop:
	VMOVDQU    (SI), Y0
	VPAND      Y15, Y0, Y1
	VPSRLW     $4, Y0, Y2
	VPAND      Y15, Y2, Y2
	VPMADDUBSW (DI), Y1, Y3
	VPMADDUBSW 32(DI), Y2, Y4
	VPADDW     Y4, Y3, Y3
	VPMADDWD   Y14, Y3, Y3
	VPADDD     Y3, Y5, Y5
	ADDQ       $32, SI
	ADDQ       $64, DI
	SUBQ       $64, CX
	JNZ        nloop

	VEXTRACTI128 $1, Y5, X1
	VPADDD       X1, X5, X0
	VPSHUFD      $0x4E, X0, X1
	VPADDD       X1, X0, X0
	VPSHUFD      $0xB1, X0, X1
	VPADDD       X1, X0, X0
	VMOVD        X0, AX
	VZEROUPPER
	MOVL         AX, ret+24(FP)
	RET
