// Shared by the CUDA backend's .cu files: the one checking helper for CUDA
// runtime and cuBLAS results, and the backend's state.
//
// Everything an op or a GEMM needs (device, stream, cuBLAS handle, split-K
// scratch) lives in the backend instance (be->ctx), which every entry
// receives: nothing is process-wide, so several CUDA backends (one per GPU,
// or two on one GPU) live side by side.
#ifndef CNN_CUDA_COMMON_H
#define CNN_CUDA_COMMON_H

#include <cublas_v2.h>
#include <cuda_runtime.h>
#ifdef CNN_HAVE_NCCL
#include "backends/cuda/nccl_runtime.h" // nccl.h, and NCCL's entry points loaded at run time
#endif

#include "core/backend.h"

// Turns a CUDA runtime or cuBLAS result into a cnn_status: CNN_OK on
// success, else CNN_ERR_DEVICE with "file:line: call failed: NAME (text):
// what to do" recorded by cnn_error.
cnn_status cnn_cuda_check(cudaError_t e, const char *call, const char *file, int line);
cnn_status cnn_cuda_check(cublasStatus_t s, const char *call, const char *file, int line);
#ifdef CNN_HAVE_NCCL
cnn_status cnn_cuda_check(ncclResult_t r, const char *call, const char *file, int line);
#endif

// Checks a CUDA runtime call, a cuBLAS call, an NCCL call, or a launch_* helper (which
// returns cudaGetLastError() after its launches); on failure returns the
// cnn_status from the calling function. Library code never exits.
#define CUDA_CHECK(expr)                                                                                               \
    do {                                                                                                               \
        cnn_status cuda_check_s_ = cnn_cuda_check((expr), #expr, __FILE__, __LINE__);                                  \
        if (cuda_check_s_ != CNN_OK) return cuda_check_s_;                                                             \
    } while (0)

// The CUDA backend's state (be->ctx).
struct cnn_cuda_state {
    int device;
    cudaDeviceProp prop;
    cudaStream_t stream;      // every op is queued here (non-blocking, so graph capture sees all of it)
    cublasHandle_t cublas;    // bound to stream, with a fixed workspace so that capture never allocates
    void *cublas_ws;
    size_t cublas_ws_bytes;
    float *splitk_ws;         // split-K partial sums for the small warp-tile GEMM
    size_t splitk_floats;
    uint16_t *bf16_ws;        // cublas-bf16: bf16 copies of A and B (grown outside captures)
    size_t bf16_elems;
    double *loss_partials;    // (LOSS_MAX_BLOCKS, 2) per-block sums of the loss kernels
    int *err_host;            // mapped pinned ints (ERRW_WORDS): DEVERR_* code and loss counters written by kernels
    int *err_dev;             // the same int as the kernels see it
    bool capturing;
#ifdef CNN_HAVE_NCCL
    ncclComm_t nccl;          // the gradient all-reduce's communicator over the ranks (dist_attach); NULL: none
#endif
};

// The state of CUDA backend be, with be's device made current on the
// calling thread (a cheap check when it already is). Should the switch fail,
// the next checked call on the state's stream reports it.
static inline cnn_cuda_state *cnn_cuda_state_of(cnn_backend *be) {
    cnn_cuda_state *st = (cnn_cuda_state *)be->ctx;
    int current = -1;
    if (cudaGetDevice(&current) != cudaSuccess || current != st->device) (void)cudaSetDevice(st->device);
    return st;
}

extern "C" {
// The CUDA GEMMs in ladder order (gemm_ladder.cu), and the default.
extern const cnn_gemm_variant cnn_cuda_gemm_variants[];
extern const int cnn_cuda_gemm_variant_count;
extern const char *const cnn_cuda_gemm_default;
}

#endif
