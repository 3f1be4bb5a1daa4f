// JSON through cJSON: the run record's writer and the parser behind
// cnn-train report. cJSON does the escaping, number formatting and parsing;
// this file keeps our API (json.h) on top of it.
#include "core/energy/common/json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- writer

void cnn_jw_init(cnn_json_writer *w, FILE *f) {
    memset(w, 0, sizeof *w);
    w->f = f;
}

// Prints a complete document, then frees it.
static void print_document(cnn_json_writer *w, cJSON *root) {
    char *text = w->failed ? NULL : cJSON_Print(root);
    if (text) {
        fputs(text, w->f);
        fputc('\n', w->f);
    }
    // an allocation failure leaves the file empty: it then reads as corrupt, never as a partial record
    cJSON_free(text);
    cJSON_Delete(root);
}

// Attaches item under key (inside an object) or at the end (inside an array);
// a container stays open for what follows.
static void add(cnn_json_writer *w, const char *key, cJSON *item, int container) {
    if (!item) {
        w->failed = 1;
        return;
    }
    if (w->depth == 0) {
        if (container) w->open[w->depth++] = item;
        else print_document(w, item);
        return;
    }
    cJSON *parent = w->open[w->depth - 1];
    cJSON_bool ok = cJSON_IsObject(parent) ? cJSON_AddItemToObject(parent, key ? key : "", item)
                                           : cJSON_AddItemToArray(parent, item);
    if (!ok) {
        cJSON_Delete(item);
        w->failed = 1;
        return;
    }
    if (container) {
        if (w->depth < CNN_JSON_MAX_DEPTH) w->open[w->depth++] = item;
        else w->failed = 1;
    }
}

static void end_container(cnn_json_writer *w) {
    if (w->depth == 0) return;
    if (--w->depth == 0) print_document(w, w->open[0]);
}

void cnn_jw_object(cnn_json_writer *w, const char *key) { add(w, key, cJSON_CreateObject(), 1); }
void cnn_jw_end_object(cnn_json_writer *w) { end_container(w); }
void cnn_jw_array(cnn_json_writer *w, const char *key) { add(w, key, cJSON_CreateArray(), 1); }
void cnn_jw_end_array(cnn_json_writer *w) { end_container(w); }

void cnn_jw_string(cnn_json_writer *w, const char *key, const char *s) {
    add(w, key, s ? cJSON_CreateString(s) : cJSON_CreateNull(), 0);
}

void cnn_jw_number(cnn_json_writer *w, const char *key, double v) {
    add(w, key, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull(), 0);
}

void cnn_jw_int(cnn_json_writer *w, const char *key, long long v) { add(w, key, cJSON_CreateNumber((double)v), 0); }
void cnn_jw_bool(cnn_json_writer *w, const char *key, int v) { add(w, key, cJSON_CreateBool(v != 0), 0); }
void cnn_jw_null(cnn_json_writer *w, const char *key) { add(w, key, cJSON_CreateNull(), 0); }

void cnn_json_write_escaped(FILE *f, const char *s) {
    cJSON *item = cJSON_CreateString(s ? s : "");
    char *text = item ? cJSON_PrintUnformatted(item) : NULL;
    if (text) fputs(text, f);
    cJSON_free(text);
    cJSON_Delete(item);
}

// ---------------------------------------------------------------- parser

void cnn_json_free(cnn_json *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        cnn_json_free(v->items[i]);
        if (v->keys) free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    free(v->string);
    free(v);
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

// Our tree from cJSON's; NULL when out of memory.
static cnn_json *convert(const cJSON *c) {
    cnn_json *v = calloc(1, sizeof *v);
    if (!v) return NULL;
    if (cJSON_IsBool(c)) {
        v->type = CNN_JSON_BOOL;
        v->number = cJSON_IsTrue(c) ? 1 : 0;
    } else if (cJSON_IsNumber(c)) {
        v->type = CNN_JSON_NUMBER;
        v->number = c->valuedouble;
    } else if (cJSON_IsString(c)) {
        v->type = CNN_JSON_STRING;
        if (!(v->string = dup_str(c->valuestring))) goto fail;
    } else if (cJSON_IsArray(c) || cJSON_IsObject(c)) {
        int is_object = cJSON_IsObject(c);
        v->type = is_object ? CNN_JSON_OBJECT : CNN_JSON_ARRAY;
        int n = cJSON_GetArraySize(c);
        if (n > 0) {
            v->items = calloc((size_t)n, sizeof *v->items);
            if (!v->items || (is_object && !(v->keys = calloc((size_t)n, sizeof *v->keys)))) goto fail;
        }
        const cJSON *child;
        cJSON_ArrayForEach(child, c) {
            if (is_object && !(v->keys[v->n] = dup_str(child->string))) goto fail;
            if (!(v->items[v->n] = convert(child))) {
                if (is_object) free(v->keys[v->n]);
                goto fail;
            }
            v->n++;
        }
    } else {
        v->type = CNN_JSON_NULL;
    }
    return v;
fail:
    cnn_json_free(v);
    return NULL;
}

static cnn_status parse_error(const char *what, const char *text, size_t len, size_t pos) {
    int line = 1, col = 1;
    for (size_t i = 0; i < pos && i < len; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return cnn_error(CNN_ERR_FORMAT, "JSON: %s at line %d, column %d", what, line, col);
}

cnn_status cnn_json_parse(const char *text, size_t len, cnn_json **out) {
    *out = NULL;
    // JSON allows no raw control character (inside strings they must be escaped,
    // outside only tab, newline and carriage return are whitespace); cJSON lets them through
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
            return parse_error("a raw control character (escape it as \\u00XX)", text, len, i);
    }
    // cJSON checks for trailing characters up to a terminating NUL: give it one
    char *copy = malloc(len + 1);
    if (!copy) return cnn_error(CNN_ERR_NOMEM, "JSON: out of memory reading %zu bytes", len);
    memcpy(copy, text, len);
    copy[len] = '\0';
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(copy, len + 1, &end, 1);
    size_t pos = end ? (size_t)(end - copy) : len;
    free(copy);
    if (!root) return parse_error("not valid JSON", text, len, pos);
    cnn_json *v = convert(root);
    cJSON_Delete(root);
    if (!v) return cnn_error(CNN_ERR_NOMEM, "JSON: out of memory building the tree of %zu bytes", len);
    *out = v;
    return CNN_OK;
}

const cnn_json *cnn_json_get(const cnn_json *v, const char *key) {
    if (!v || v->type != CNN_JSON_OBJECT) return NULL;
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->keys[i], key)) return v->items[i];
    return NULL;
}

const cnn_json *cnn_json_at(const cnn_json *v, int i) {
    if (!v || (v->type != CNN_JSON_ARRAY && v->type != CNN_JSON_OBJECT) || i < 0 || i >= v->n) return NULL;
    return v->items[i];
}

int cnn_json_len(const cnn_json *v) {
    return (v && (v->type == CNN_JSON_ARRAY || v->type == CNN_JSON_OBJECT)) ? v->n : 0;
}

double cnn_json_num(const cnn_json *v) { return (v && v->type == CNN_JSON_NUMBER) ? v->number : NAN; }

const char *cnn_json_str(const cnn_json *v, const char *dflt) {
    return (v && v->type == CNN_JSON_STRING) ? v->string : dflt;
}
