// NCCL loaded at run time (dlopen), as NVML is: the CUDA backend builds against nccl.h alone, so one
// binary runs on machines with or without NCCL (a single GPU needs none) and a packed binary does not
// carry NCCL's 200 MB library. $CNN_NCCL_LIB names the library, else libnccl.so.2.
#ifndef CNN_CUDA_NCCL_RUNTIME_H
#define CNN_CUDA_NCCL_RUNTIME_H

#include <stddef.h>

#include <nccl.h>

#ifdef __cplusplus
extern "C" {
#endif

// The NCCL entry points the backend uses.
typedef struct {
    const char *(*GetErrorString)(ncclResult_t result);
    const char *(*GetLastError)(ncclComm_t comm);
    ncclResult_t (*GetUniqueId)(ncclUniqueId *id);
    ncclResult_t (*CommInitRank)(ncclComm_t *comm, int nranks, ncclUniqueId id, int rank);
    ncclResult_t (*CommDestroy)(ncclComm_t comm);
    ncclResult_t (*AllReduce)(const void *send, void *recv, size_t count, ncclDataType_t type, ncclRedOp_t op,
                              ncclComm_t comm, cudaStream_t stream);
} cnn_nccl_api;

// NCCL's entry points, loaded at the first call (later calls: the same table). NULL when the library or one of
// its entry points cannot be loaded; then why (len bytes) says which and what to do.
const cnn_nccl_api *cnn_nccl_api_load(char *why, size_t len);
// The table once loaded, else NULL (for messages and cleanup: loads nothing).
const cnn_nccl_api *cnn_nccl_api_loaded(void);

#ifdef __cplusplus
}
#endif
#endif
