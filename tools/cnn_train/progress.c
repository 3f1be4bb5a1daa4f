#include "progress.h"

#include <stdio.h>
#include <unistd.h>

#include "core/clock.h"

static void clear_bar(progress_printer *p) {
    if (!p->bar_shown) return;
    printf("\r\033[K");
    p->bar_shown = false;
}

static void on_train_begin(void *user, const cnn_train_info *i, double t) {
    progress_printer *p = user;
    p->target = i->cfg->target_acc;
    p->max_epochs = i->cfg->max_epochs;
    p->last_loss = -1;
    p->epoch_t0 = t;
    if (p->quiet) return;
    printf("cnn-train: %s (%d train, %d test), %s, %s backend (%s, gemm %s, step %s)\n", i->dataset, i->n_train,
           i->n_test, i->model_desc, i->backend, i->device_desc, i->gemm, i->step ? i->step : "?");
    if (i->step_note) printf("           step: %s\n", i->step_note);
    if (p->backend_why && *p->backend_why) printf("           backend %s: %s\n", i->backend, p->backend_why);
    if (p->world_size > 1)
        printf("           data-parallel: %d ranks (%d per node, %d node%s), %d rows of each batch of %d per rank\n",
               p->world_size, p->ranks_per_node, p->n_nodes, p->n_nodes == 1 ? "" : "s", i->cfg->batch / p->world_size,
               i->cfg->batch);
    printf("           batch %d, lr %g, momentum %g, weight decay %g, seed %llu, %ld steps/epoch, ", i->cfg->batch,
           (double)i->cfg->lr, (double)i->cfg->momentum, (double)i->cfg->weight_decay,
           (unsigned long long)i->cfg->seed, i->steps_per_epoch);
    const char *unit = i->cfg->max_epochs == 1 ? "epoch" : "epochs";
    if (i->cfg->target_acc > 0)
        printf("target %.4g within %d %s\n", i->cfg->target_acc, i->cfg->max_epochs, unit);
    else
        printf("%d %s, no target\n", i->cfg->max_epochs, unit);
    fflush(stdout);
}

static void on_epoch_begin(void *user, int epoch, double t) {
    progress_printer *p = user;
    (void)epoch;
    p->epoch_t0 = t;
}

// m:ss, or h:mm:ss from an hour.
static const char *fmt_time(char *buf, size_t len, double s) {
    long v = s > 0 ? (long)(s + 0.5) : 0;
    if (v >= 3600) snprintf(buf, len, "%ld:%02ld:%02ld", v / 3600, v / 60 % 60, v % 60);
    else snprintf(buf, len, "%ld:%02ld", v / 60, v % 60);
    return buf;
}

static void on_step(void *user, int epoch, long s, long steps) {
    progress_printer *p = user;
    if (p->quiet || !p->bar) return;
    double now = cnn_now_s();
    if (now - p->last_bar_t < 0.1 && s != steps) return;
    p->last_bar_t = now;
    const int width = 20;
    int filled = (int)(width * s / steps);
    char bar[64];
    for (int k = 0; k < width; k++) bar[k] = k < filled ? '#' : '.';
    bar[width] = '\0';
    printf("\r\033[Kepoch %d [%s] %3d%% %ld/%ld", epoch, bar, (int)(100 * s / steps), s, steps);
    // the training loss known without waiting for the device: the mean since the last evaluation
    if (p->last_loss >= 0) printf("  loss %.4f", p->last_loss);
    else printf("  loss -");
    double dt = now - p->epoch_t0;
    if (dt > 0 && s > 0) {
        double rate = s / dt;
        char b1[32], b2[32];
        long left_epoch = steps - s, left_run = left_epoch + (long)(p->max_epochs - epoch) * steps;
        printf("  %.0f steps/s  left %s", rate, fmt_time(b1, sizeof b1, left_epoch / rate));
        if (p->max_epochs > epoch)
            printf(" (run %s%s)", p->target > 0 ? "<= " : "", fmt_time(b2, sizeof b2, left_run / rate));
    }
    fflush(stdout);
    p->bar_shown = true;
}

static void on_eval(void *user, const cnn_eval_point *e, double t) {
    progress_printer *p = user;
    (void)t;
    p->last_loss = e->train_loss;
    if (p->quiet) return;
    clear_bar(p);
    printf("epoch %3d  step %7ld  loss %.4f  test loss %.4f  test acc %.4f  elapsed %7.2f s%s\n", e->epoch, e->step,
           e->train_loss, e->test_loss, e->test_acc, e->elapsed_s,
           cnn_acc_reaches(e->test_hits, e->n_test, p->target) ? "  <- target" : "");
    fflush(stdout);
}

static void on_train_end(void *user, const cnn_train_result *r, double t) {
    (void)r;
    (void)t;
    clear_bar(user);
    fflush(stdout);
}

void progress_init(progress_printer *p, bool quiet) {
    *p = (progress_printer){0};
    p->quiet = quiet;
    p->bar = isatty(STDOUT_FILENO);
    p->observer.user = p;
    p->observer.on_train_begin = on_train_begin;
    p->observer.on_epoch_begin = on_epoch_begin;
    p->observer.on_step = on_step;
    p->observer.on_eval = on_eval;
    p->observer.on_train_end = on_train_end;
}
