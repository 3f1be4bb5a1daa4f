// run.json's "distributed" section: the world's shape, each node's and each rank's meters and energy, and
// each rank's communication time (null for one process).
#include <math.h>

#include "core/energy/record/record_json.h"

static void jw_rank(cnn_json_writer *w, const cnn_energy_result *res, const cnn_energy_rank_row *row) {
    cnn_jw_object(w, NULL);
    cnn_jw_int(w, "rank", row->rank);
    cnn_jw_int(w, "node", row->node);
    cnn_jw_int(w, "local_rank", row->local_rank);
    cnn_jw_string(w, "host", row->host);
    cnn_jw_array(w, "meters");
    for (int m = row->first_meter; m < row->first_meter + row->n_meters; m++) cnn_jw_string(w, NULL, res->info[m].name);
    cnn_jw_end_array(w);
    cnn_jw_number(w, "training_j", row->train_j);
    cnn_jw_number(w, "training_uncertainty_j", row->train_u);
    cnn_jw_number(w, "functional_unit_j", row->fu_j);
    cnn_jw_number(w, "functional_unit_uncertainty_j", row->fu_u);
    cnn_jw_number(w, "training_s", row->train_s);
    cnn_jw_number(w, "allreduce_s", row->allreduce_s >= 0 ? row->allreduce_s : NAN); // null: not measured
    cnn_jw_number(w, "other_communication_s", row->comm_s);
    cnn_jw_number(w, "communication_share",
                  row->allreduce_s >= 0 && row->train_s > 0 ? (row->allreduce_s + row->comm_s) / row->train_s : NAN);
    cnn_jw_end_object(w);
}

void cnn_energy_jw_world(cnn_json_writer *w, const cnn_energy_result *res) {
    const cnn_energy_world_result *wr = &res->world;
    if (wr->world_size <= 1) {
        cnn_jw_null(w, "distributed");
        return;
    }
    cnn_jw_object(w, "distributed");
    cnn_jw_int(w, "world_size", wr->world_size);
    cnn_jw_int(w, "nodes_count", wr->n_nodes);
    cnn_jw_string(w, "method", "every rank reads its own meters (its GPU; a node's host meters on its first rank "
                               "only); rank 0 re-times every rank's series onto its clock by the window edges "
                               "all ranks mark at the same steps, and accounts them as its own meters");
    cnn_jw_array(w, "nodes");
    for (int k = 0; k < wr->n_nodes; k++) {
        const cnn_energy_node_row *n = &wr->nodes[k];
        cnn_jw_object(w, NULL);
        cnn_jw_int(w, "node", k);
        cnn_jw_string(w, "host", n->host);
        cnn_jw_int(w, "ranks", n->n_ranks);
        cnn_jw_int(w, "logical_cpus", n->logical_cpus);
        cnn_jw_int(w, "gpus", n->n_gpus);
        cnn_jw_number(w, "training_j", n->train_j);
        cnn_jw_number(w, "training_uncertainty_j", n->train_u);
        cnn_jw_number(w, "functional_unit_j", n->fu_j);
        cnn_jw_number(w, "functional_unit_uncertainty_j", n->fu_u);
        cnn_jw_end_object(w);
    }
    cnn_jw_end_array(w);
    cnn_jw_array(w, "ranks");
    for (int k = 0; k < wr->n_ranks; k++) jw_rank(w, res, &wr->ranks[k]);
    cnn_jw_end_array(w);
    cnn_jw_end_object(w);
}
