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
    (void)t;
    p->target = i->cfg->target_acc;
    printf("cnn-train: %s (%d train, %d test), %s, %s backend (%s, gemm %s)\n", i->dataset, i->n_train, i->n_test,
           i->model_desc, i->backend, i->device_desc, i->gemm);
    printf("           batch %d, lr %g, momentum %g, weight decay %g, seed %llu, %ld steps/epoch, ", i->cfg->batch,
           (double)i->cfg->lr, (double)i->cfg->momentum, (double)i->cfg->weight_decay,
           (unsigned long long)i->cfg->seed, i->steps_per_epoch);
    if (i->cfg->target_acc > 0)
        printf("target %.4g within %d epochs\n", i->cfg->target_acc, i->cfg->max_epochs);
    else
        printf("%d epochs, no target\n", i->cfg->max_epochs);
    fflush(stdout);
}

static void on_step(void *user, int epoch, long s, long steps) {
    progress_printer *p = user;
    if (p->quiet || !p->bar) return;
    double now = cnn_now_s();
    if (now - p->last_bar_t < 0.1 && s != steps) return;
    p->last_bar_t = now;
    const int width = 30;
    int filled = (int)(width * s / steps);
    char bar[64];
    for (int k = 0; k < width; k++) bar[k] = k < filled ? '#' : '.';
    bar[width] = '\0';
    printf("\r\033[Kepoch %d [%s] %3d%% (%ld/%ld steps)", epoch, bar, (int)(100 * s / steps), s, steps);
    fflush(stdout);
    p->bar_shown = true;
}

static void on_eval(void *user, const cnn_eval_point *e, double t) {
    progress_printer *p = user;
    (void)t;
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
    p->observer.on_step = on_step;
    p->observer.on_eval = on_eval;
    p->observer.on_train_end = on_train_end;
}
