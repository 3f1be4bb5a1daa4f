// Hardware description: CPU model, logical CPUs, memory, OS.
#include "core/energy/meters/platform.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

void cnn_hw_info_probe(cnn_hw_info *hw) {
    memset(hw, 0, sizeof *hw);
    snprintf(hw->cpu_model, sizeof hw->cpu_model, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) && strncmp(line, "Processor", 9) && strncmp(line, "cpu model", 9))
                continue;
            char *colon = strchr(line, ':');
            if (!colon) continue;
            char *v = colon + 1;
            while (*v == ' ' || *v == '\t') v++;
            v[strcspn(v, "\r\n")] = '\0';
            if (*v) {
                snprintf(hw->cpu_model, sizeof hw->cpu_model, "%s", v);
                break;
            }
        }
        fclose(f);
    }
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    hw->logical_cpus = n > 0 ? (int)n : 1;
    long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    if (pages > 0 && page > 0) hw->ram_gb = (double)pages * (double)page / (1024.0 * 1024.0 * 1024.0);
    struct utsname u;
    if (uname(&u) == 0) snprintf(hw->os, sizeof hw->os, "%.40s-%.64s-%.32s", u.sysname, u.release, u.machine);
    else snprintf(hw->os, sizeof hw->os, "unknown");
}
