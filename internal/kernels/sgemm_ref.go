package kernels

// SgemmBiasRef computes C = op(A)·op(B) + bias, then ReLU if relu is set.
// op(A) is m×k, op(B) is k×n, C is m×n, row-major with leading dimensions;
// bias has length n. C is not read.
//
//	for i < m, j < n:
//		s := sum over p < k of op(A)[i,p]·op(B)[p,j]
//		v := s + bias[j]
//		if relu && v < 0 { v = 0 }
//		C[i,j] = v
func SgemmBiasRef(transA, transB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, bias []float32, relu bool, c []float32, ldc int) {
	SgemmRef(transA, transB, m, n, k, 1, a, lda, b, ldb, 0, c, ldc)
	for i := 0; i < m; i++ {
		for j := 0; j < n; j++ {
			v := c[i*ldc+j] + bias[j]
			if relu && v < 0 {
				v = 0
			}
			c[i*ldc+j] = v
		}
	}
}
