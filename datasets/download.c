// Downloads with libcurl into a temporary file, MD5 computed while the
// bytes arrive, renamed to the final name only when complete and correct.
#include "download.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "md5.h"

#ifndef CNN_VERSION
#define CNN_VERSION "dev"
#endif

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;

static void curl_init_once(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

// mkdir -p dir (each missing component created with mode 0755); *made is
// the length of the shortest prefix of dir that this call created, 0 when
// it created nothing (every component after that one is new too).
static cnn_status mkdir_p(const char *dir, size_t *made) {
    *made = 0;
    if (!dir || !*dir) return cnn_error(CNN_ERR_INVALID_ARG, "cnn_mkdir_p: empty directory name");
    size_t n = strlen(dir);
    char *p = malloc(n + 1);
    if (!p) return cnn_error(CNN_ERR_NOMEM, "out of memory");
    memcpy(p, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (p[i] != '/' && p[i] != '\0') continue;
        char c = p[i];
        p[i] = '\0';
        if (mkdir(p, 0755) == 0) {
            if (!*made) *made = i;
        } else if (errno != EEXIST) {
            cnn_status st = cnn_error(CNN_ERR_IO, "cannot create directory %s: %s", p, strerror(errno));
            free(p);
            return st;
        }
        p[i] = c;
    }
    struct stat st;
    int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
    free(p);
    if (!ok) return cnn_error(CNN_ERR_IO, "cannot create directory %s: a file of that name is in the way", dir);
    return CNN_OK;
}

cnn_status cnn_mkdir_p(const char *dir) {
    size_t made;
    return mkdir_p(dir, &made);
}

// Undoes mkdir_p(dir, made): removes dir and its parents down to the
// prefix of length made, deepest first, each only while it is empty
// (rmdir refuses a directory that holds anything, and the walk stops there;
// one that mkdir_p failed to create is skipped).
static void remove_made(const char *dir, size_t made) {
    size_t n = strlen(dir);
    char *p = made ? malloc(n + 1) : NULL;
    if (!p) return;
    memcpy(p, dir, n + 1);
    while (n > 1 && p[n - 1] == '/') p[--n] = '\0';
    while (n >= made && (rmdir(p) == 0 || errno == ENOENT)) {
        while (n > 0 && p[n - 1] != '/') n--;   // drop the last component
        while (n > 1 && p[n - 1] == '/') n--;   // and the slashes before it
        p[n] = '\0';
    }
    free(p);
}

// The state of one transfer: where the bytes go and their running MD5.
typedef struct {
    FILE *f;
    cnn_md5_ctx md5;
    uint64_t received;
    int write_errno;
    int show_progress; // stderr is a terminal and not quiet
    double last_shown;
    const char *name;
} dl_state;

// ptr holds size*nmemb bytes of the body: appends them to the file and the MD5.
static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud) {
    dl_state *s = ud;
    size_t n = size * nmemb;
    if (n && fwrite(ptr, 1, n, s->f) != n) {
        s->write_errno = errno ? errno : EIO;
        return 0; // makes curl stop with CURLE_WRITE_ERROR
    }
    cnn_md5_update(&s->md5, ptr, n);
    s->received += n;
    return n;
}

// Shows "name: 12.3 / 26.4 MB" on the terminal, at most four times a second.
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    (void)ultotal;
    (void)ulnow;
    dl_state *s = ud;
    double now = cnn_now_s();
    if (now - s->last_shown < 0.25) return 0;
    s->last_shown = now;
    if (dltotal > 0)
        fprintf(stderr, "\r  %s: %.1f / %.1f MB", s->name, (double)dlnow / 1e6, (double)dltotal / 1e6);
    else
        fprintf(stderr, "\r  %s: %.1f MB", s->name, (double)dlnow / 1e6);
    return 0;
}

static int md5_equal(const char *a, const char *b) {
    for (int i = 0; i < 32; i++)
        if (!a[i] || !b[i] || tolower((unsigned char)a[i]) != tolower((unsigned char)b[i])) return 0;
    return a[32] == '\0' && b[32] == '\0';
}

static int md5_valid(const char *s) {
    if (!s) return 0;
    for (int i = 0; i < 32; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return s[32] == '\0';
}

// Fetches url into dir/name through a temporary file; on failure writes a
// short reason to why and leaves no file behind.
static cnn_status download_one(const char *url, const char *dir, const cnn_download_item *item,
                               const cnn_download_options *opt, char *why, size_t why_size) {
    size_t dl = strlen(dir), nl = strlen(item->name);
    char *final_path = malloc(dl + nl + 2);
    char *tmp_path = malloc(dl + nl + 16);
    if (!final_path || !tmp_path) {
        free(final_path);
        free(tmp_path);
        snprintf(why, why_size, "out of memory");
        return CNN_ERR_NOMEM;
    }
    snprintf(final_path, dl + nl + 2, "%s/%s", dir, item->name);
    snprintf(tmp_path, dl + nl + 16, "%s/%s.part.XXXXXX", dir, item->name);
    cnn_status st = CNN_OK;
    dl_state s;
    memset(&s, 0, sizeof s);
    s.name = item->name;
    s.show_progress = !opt->quiet && isatty(STDERR_FILENO);
    cnn_md5_init(&s.md5);
    CURL *curl = NULL;
    int fd = mkstemp(tmp_path);
    if (fd < 0) {
        snprintf(why, why_size, "cannot create %s: %s", tmp_path, strerror(errno));
        free(final_path);
        free(tmp_path);
        return CNN_ERR_IO;
    }
    (void)fchmod(fd, 0644);
    s.f = fdopen(fd, "wb");
    if (!s.f) {
        snprintf(why, why_size, "cannot open %s: %s", tmp_path, strerror(errno));
        close(fd);
        st = CNN_ERR_IO;
        goto done;
    }
    curl = curl_easy_init();
    if (!curl) {
        snprintf(why, why_size, "libcurl could not start a transfer");
        st = CNN_ERR_NETWORK;
        goto done;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_FAILONERROR, 1L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "cnn-train/" CNN_VERSION);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, opt->connect_timeout_s > 0 ? opt->connect_timeout_s : 10L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, opt->low_speed_time_s > 0 ? opt->low_speed_time_s : 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    if (s.show_progress) {
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    }
    CURLcode rc = curl_easy_perform(curl);
    if (s.show_progress) fputc('\n', stderr);
    long code = 0;
    curl_off_t content_length = -1;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &content_length);
    if (rc == CURLE_WRITE_ERROR && s.write_errno) {
        snprintf(why, why_size, "cannot write %s: %s", tmp_path, strerror(s.write_errno));
        st = CNN_ERR_IO;
    } else if (rc == CURLE_HTTP_RETURNED_ERROR || code >= 400) {
        snprintf(why, why_size, "HTTP %ld", code);
        st = CNN_ERR_NETWORK;
    } else if (rc == CURLE_PARTIAL_FILE || (rc == CURLE_OK && content_length >= 0 &&
                                            (uint64_t)content_length != s.received)) {
        snprintf(why, why_size, "truncated: the connection closed after %llu of %lld bytes",
                 (unsigned long long)s.received, (long long)content_length);
        st = CNN_ERR_NETWORK;
    } else if (rc != CURLE_OK) {
        snprintf(why, why_size, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        st = CNN_ERR_NETWORK;
    }
    if (st != CNN_OK) goto done;
    if (fflush(s.f) != 0 || fsync(fileno(s.f)) != 0) {
        snprintf(why, why_size, "cannot write %s: %s", tmp_path, strerror(errno));
        st = CNN_ERR_IO;
        goto done;
    }
    int close_rc = fclose(s.f);
    s.f = NULL;
    if (close_rc != 0) {
        snprintf(why, why_size, "cannot write %s: %s", tmp_path, strerror(errno));
        st = CNN_ERR_IO;
        goto done;
    }
    uint8_t digest[16];
    char got[33];
    cnn_md5_final(&s.md5, digest);
    cnn_md5_hex(digest, got);
    if (!md5_equal(got, item->md5)) {
        snprintf(why, why_size, "MD5 mismatch: expected %s, got %s (%llu bytes)", item->md5, got,
                 (unsigned long long)s.received);
        st = CNN_ERR_CHECKSUM;
        goto done;
    }
    if (rename(tmp_path, final_path) != 0) {
        snprintf(why, why_size, "cannot rename %s to %s: %s", tmp_path, final_path, strerror(errno));
        st = CNN_ERR_IO;
        goto done;
    }
    if (!opt->quiet)
        fprintf(stderr, "cnn-train: saved %s (%llu bytes, MD5 %s verified)\n", final_path,
                (unsigned long long)s.received, got);
done:
    if (curl) curl_easy_cleanup(curl);
    if (s.f) fclose(s.f);
    if (st != CNN_OK) unlink(tmp_path);
    free(final_path);
    free(tmp_path);
    return st;
}

static cnn_status fetch_all(const char *const *base_urls, int n_urls, const cnn_download_item *items, int n_items,
                            const char *dir, const cnn_download_options *opt);

// base_urls x items: fetches each item from the first base URL that serves it intact into dir.
cnn_status cnn_download_files(const char *const *base_urls, int n_urls, const cnn_download_item *items, int n_items,
                              const char *dir, const cnn_download_options *opt) {
    static const cnn_download_options defaults = {0, 0, 0};
    if (!opt) opt = &defaults;
    if (!base_urls || n_urls <= 0 || !items || n_items < 0 || !dir || !*dir)
        return cnn_error(CNN_ERR_INVALID_ARG, "cnn_download_files: needs at least one base URL, items and a directory");
    for (int i = 0; i < n_items; i++) {
        if (!items[i].name || !*items[i].name || strchr(items[i].name, '/'))
            return cnn_error(CNN_ERR_INVALID_ARG, "cnn_download_files: item %d has no file name (or one with '/')", i);
        if (!md5_valid(items[i].md5))
            return cnn_error(CNN_ERR_INVALID_ARG, "cnn_download_files: %s: the expected MD5 '%s' is not 32 hex digits",
                             items[i].name, items[i].md5 ? items[i].md5 : "(none)");
    }
    for (int u = 0; u < n_urls; u++)
        if (!base_urls[u] || !*base_urls[u])
            return cnn_error(CNN_ERR_INVALID_ARG, "cnn_download_files: base URL %d is empty", u);
    if (n_items == 0) return CNN_OK;
    // A failed attempt leaves no directory it created behind (unless it holds files).
    size_t made;
    cnn_status st = mkdir_p(dir, &made);
    if (st == CNN_OK) st = fetch_all(base_urls, n_urls, items, n_items, dir, opt);
    if (st != CNN_OK) remove_made(dir, made);
    return st;
}

// The body of cnn_download_files once its arguments are checked and dir exists.
static cnn_status fetch_all(const char *const *base_urls, int n_urls, const cnn_download_item *items, int n_items,
                            const char *dir, const cnn_download_options *opt) {
    pthread_once(&curl_once, curl_init_once);
    if (curl_init_rc != CURLE_OK)
        return cnn_error(CNN_ERR_NETWORK, "libcurl failed to initialise: %s", curl_easy_strerror(curl_init_rc));

    for (int i = 0; i < n_items; i++) {
        char summary[768] = "";
        size_t used = 0;
        int any_checksum = 0;
        cnn_status st = CNN_ERR_NETWORK;
        for (int u = 0; u < n_urls; u++) {
            const char *base = base_urls[u];
            size_t bl = strlen(base);
            int slash = bl > 0 && base[bl - 1] == '/';
            size_t ul = bl + strlen(items[i].name) + 2;
            char *url = malloc(ul);
            if (!url) return cnn_error(CNN_ERR_NOMEM, "out of memory");
            snprintf(url, ul, "%s%s%s", base, slash ? "" : "/", items[i].name);
            if (!opt->quiet) fprintf(stderr, "cnn-train: downloading %s\n", url);
            char why[512];
            st = download_one(url, dir, &items[i], opt, why, sizeof why);
            if (st == CNN_OK) {
                free(url);
                break;
            }
            if (!opt->quiet) fprintf(stderr, "cnn-train: %s: %s\n", url, why);
            if (st == CNN_ERR_CHECKSUM) any_checksum = 1;
            if (used < sizeof summary) {
                int w = snprintf(summary + used, sizeof summary - used, "%s%s: %s", used ? "; " : "", url, why);
                if (w > 0) used += (size_t)w;
            }
            free(url);
            if (st == CNN_ERR_IO || st == CNN_ERR_NOMEM)
                return cnn_error(st, "%s: download failed: %s: check that %s is writable and has free space",
                                 items[i].name, summary, dir);
        }
        if (st == CNN_OK) continue;
        if (any_checksum)
            return cnn_error(CNN_ERR_CHECKSUM,
                             "%s: download failed: %s; a mirror served a different file than the published one (or "
                             "it was damaged in transit): nothing was kept; try again later or supply the files "
                             "yourself",
                             items[i].name, summary);
        return cnn_error(CNN_ERR_NETWORK,
                         "%s: download failed: %s; check the network connection (libcurl honours https_proxy and "
                         "http_proxy)",
                         items[i].name, summary);
    }
    return CNN_OK;
}
