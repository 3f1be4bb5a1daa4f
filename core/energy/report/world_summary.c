// The summary's section on a data-parallel run: per node, its ranks and their meters' energy over training and
// to the target; per rank, its meters' energy and the share of its training time spent communicating.
#include "core/energy/report/world_summary.h"

#include "core/energy/report/format.h"

void cnn_energy_print_world(const cnn_energy_result *res, FILE *out) {
    const cnn_energy_world_result *wr = &res->world;
    if (wr->world_size <= 1) return;
    char a[48], b[48];
    fprintf(out, "\ndata-parallel: %d ranks on %d node%s; energy per node and rank (J, %s; each node's host meters "
                 "are read by its first rank)\n",
            wr->world_size, wr->n_nodes, wr->n_nodes == 1 ? "" : "s", cnn_provenance_name(res->acc.total_prov));
    fprintf(out, "  %-24s %5s %19s %19s\n", "node", "ranks", "training", res->acc.target_reached ? "to target" : "run");
    for (int k = 0; k < wr->n_nodes; k++) {
        const cnn_energy_node_row *n = &wr->nodes[k];
        fprintf(out, "  %d %-22.22s %5d %19s %19s\n", k, n->host, n->n_ranks,
                cnn_energy_fmt_ju(a, sizeof a, n->train_j, n->train_u), cnn_energy_fmt_ju(b, sizeof b, n->fu_j, n->fu_u));
    }
    fprintf(out, "  %-6s %-5s %-8s %19s %19s  %s\n", "rank", "node", "meters", "training",
            res->acc.target_reached ? "to target" : "run", "communication");
    for (int k = 0; k < wr->n_ranks; k++) {
        const cnn_energy_rank_row *row = &wr->ranks[k];
        char comm[96];
        if (row->allreduce_s < 0)
            snprintf(comm, sizeof comm, "gradient all-reduce not timed (NCCL on the GPU's stream); other %.3f s",
                     row->comm_s);
        else
            snprintf(comm, sizeof comm, "%.3f s of %.3f s (%.1f%%): all-reduce %.3f s, other %.3f s",
                     row->allreduce_s + row->comm_s, row->train_s,
                     row->train_s > 0 ? 100.0 * (row->allreduce_s + row->comm_s) / row->train_s : 0.0,
                     row->allreduce_s, row->comm_s);
        fprintf(out, "  %-6d %-5d %-8d %19s %19s  %s\n", row->rank, row->node, row->n_meters,
                row->n_meters ? cnn_energy_fmt_ju(a, sizeof a, row->train_j, row->train_u) : "-",
                row->n_meters ? cnn_energy_fmt_ju(b, sizeof b, row->fu_j, row->fu_u) : "-", comm);
    }
}
