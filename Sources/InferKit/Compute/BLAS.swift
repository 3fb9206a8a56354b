import COpenBLAS

/// The bridge to OpenBLAS, which does the matrix–matrix products of batched prompt
/// processing. All matrices are row-major f32 with an explicit leading dimension (floats
/// between consecutive rows), so that a product can read or write a column block of a
/// larger matrix (one head of the queries, one layer's rows of the KV cache).
enum BLAS {
    /// OpenBLAS computes on the calling thread only: infer splits the work among its own
    /// threads (so that widening weight tiles runs in parallel too), and OpenBLAS's pool
    /// would compete with them for the same cores.
    private static let singleThreaded: Void = openblas_set_num_threads(1)

    /// c (m, n) = alpha · a (m, k) · bᵀ + beta · c, where b is (n, k): each row of c is the
    /// row of a dotted with every row of b, the layout of a weight matrix (out, in).
    static func multiplyTransposed(
        m: Int, n: Int, k: Int, alpha: Float = 1,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(m), Int32(n), Int32(k),
                    alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// c (m, n) = a (m, k) · b (k, n).
    static func multiply(
        m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        _ = singleThreaded
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(m), Int32(n), Int32(k),
                    1, a, Int32(lda), b, Int32(ldb), 0, c, Int32(ldc))
    }
}
