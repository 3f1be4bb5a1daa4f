// The machine the meters run on (internal to core/energy): CPU model,
// logical CPUs, memory, OS, and the GPU the NVML meter measures.
#ifndef CNN_ENERGY_PLATFORM_H
#define CNN_ENERGY_PLATFORM_H

#ifdef __cplusplus
extern "C" {
#endif

typedef struct {
    char cpu_model[128];
    int logical_cpus;
    double ram_gb;
    char os[160];        // "Linux-6.1.0-18-amd64-x86_64"
    int n_gpus;          // GPUs measured
    char gpu_name[128];
    char gpu_driver[64];
} cnn_hw_info;

// Fills the CPU, memory and OS fields (GPU fields are left empty).
void cnn_hw_info_probe(cnn_hw_info *hw);

#ifdef __cplusplus
}
#endif
#endif
