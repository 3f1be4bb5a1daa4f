// JSON writer and parser for the run record.
#include "core/energy/json.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

// ---------------------------------------------------------------- writer

void cnn_jw_init(cnn_json_writer *w, FILE *f) {
    memset(w, 0, sizeof *w);
    w->f = f;
}

void cnn_json_write_escaped(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        case '\b': fputs("\\b", f); break;
        case '\f': fputs("\\f", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

// Separator, newline, indentation and key before a value.
static void begin_value(cnn_json_writer *w, const char *key) {
    if (w->depth > 0) {
        if (w->count[w->depth] > 0) fputc(',', w->f);
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++) fputs("  ", w->f);
    }
    if (key && w->depth > 0) {
        cnn_json_write_escaped(w->f, key);
        fputs(": ", w->f);
    }
    w->count[w->depth]++;
}

static void open_container(cnn_json_writer *w, const char *key, char c) {
    begin_value(w, key);
    fputc(c, w->f);
    if (w->depth + 1 < CNN_JSON_MAX_DEPTH) w->depth++;
    w->count[w->depth] = 0;
}

static void close_container(cnn_json_writer *w, char c) {
    int had = w->count[w->depth] > 0;
    if (w->depth > 0) w->depth--;
    if (had) {
        fputc('\n', w->f);
        for (int i = 0; i < w->depth; i++) fputs("  ", w->f);
    }
    fputc(c, w->f);
}

void cnn_jw_object(cnn_json_writer *w, const char *key) { open_container(w, key, '{'); }
void cnn_jw_end_object(cnn_json_writer *w) { close_container(w, '}'); }
void cnn_jw_array(cnn_json_writer *w, const char *key) { open_container(w, key, '['); }
void cnn_jw_end_array(cnn_json_writer *w) { close_container(w, ']'); }

void cnn_jw_string(cnn_json_writer *w, const char *key, const char *s) {
    begin_value(w, key);
    if (s) cnn_json_write_escaped(w->f, s);
    else fputs("null", w->f);
}

void cnn_jw_number(cnn_json_writer *w, const char *key, double v) {
    begin_value(w, key);
    if (!isfinite(v)) {
        fputs("null", w->f);
        return;
    }
    // The shortest of 15, 16, 17 significant digits that reads back as the same double.
    char buf[40];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, w->f);
}

void cnn_jw_int(cnn_json_writer *w, const char *key, long long v) {
    begin_value(w, key);
    fprintf(w->f, "%lld", v);
}

void cnn_jw_bool(cnn_json_writer *w, const char *key, int v) {
    begin_value(w, key);
    fputs(v ? "true" : "false", w->f);
}

void cnn_jw_null(cnn_json_writer *w, const char *key) {
    begin_value(w, key);
    fputs("null", w->f);
}

// ---------------------------------------------------------------- parser

typedef struct {
    const char *s;
    size_t len, pos;
    int depth;
    const char *err;
} parser;

static void skip_ws(parser *p) {
    while (p->pos < p->len) {
        char c = p->s[p->pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r') p->pos++;
        else break;
    }
}

static cnn_json *new_value(cnn_json_type t) {
    cnn_json *v = calloc(1, sizeof *v);
    if (v) v->type = t;
    return v;
}

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

static int hex4(parser *p, unsigned *out) {
    if (p->pos + 4 > p->len) return 0;
    unsigned x = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        x <<= 4;
        if (c >= '0' && c <= '9') x |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') x |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') x |= (unsigned)(c - 'A' + 10);
        else return 0;
    }
    *out = x;
    return 1;
}

static size_t put_utf8(char *o, unsigned cp) {
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | (cp >> 6)); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12)); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18)); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

// Parses a string literal at p->pos (the opening quote); returns a malloc'd UTF-8 string.
static char *parse_string(parser *p) {
    p->pos++; // "
    size_t cap = 16;
    char *out = malloc(cap);
    size_t n = 0;
    if (!out) { p->err = "out of memory"; return NULL; }
    while (1) {
        if (p->pos >= p->len) { p->err = "unterminated string"; free(out); return NULL; }
        if (n + 8 > cap) {
            cap *= 2;
            char *q = realloc(out, cap);
            if (!q) { p->err = "out of memory"; free(out); return NULL; }
            out = q;
        }
        unsigned char c = (unsigned char)p->s[p->pos++];
        if (c == '"') break;
        if (c < 0x20) { p->err = "control character in a string"; free(out); return NULL; }
        if (c != '\\') { out[n++] = (char)c; continue; }
        if (p->pos >= p->len) { p->err = "unterminated string"; free(out); return NULL; }
        char e = p->s[p->pos++];
        switch (e) {
        case '"': out[n++] = '"'; break;
        case '\\': out[n++] = '\\'; break;
        case '/': out[n++] = '/'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned cp;
            if (!hex4(p, &cp)) { p->err = "bad \\u escape"; free(out); return NULL; }
            if (cp >= 0xD800 && cp < 0xDC00) { // a surrogate pair
                unsigned lo;
                if (p->pos + 6 <= p->len && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                    p->pos += 2;
                    if (!hex4(p, &lo) || lo < 0xDC00 || lo > 0xDFFF) { p->err = "bad surrogate pair"; free(out); return NULL; }
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else cp = 0xFFFD;
            }
            n += put_utf8(out + n, cp);
            break;
        }
        default: p->err = "bad escape in a string"; free(out); return NULL;
        }
    }
    out[n] = '\0';
    return out;
}

static cnn_json *parse_value(parser *p);

static int push_item(cnn_json *c, cnn_json *item, char *key) {
    cnn_json **items = realloc(c->items, (size_t)(c->n + 1) * sizeof *items);
    if (!items) return 0;
    c->items = items;
    if (c->type == CNN_JSON_OBJECT) {
        char **keys = realloc(c->keys, (size_t)(c->n + 1) * sizeof *keys);
        if (!keys) return 0;
        c->keys = keys;
        c->keys[c->n] = key;
    }
    c->items[c->n++] = item;
    return 1;
}

static cnn_json *parse_container(parser *p, int object) {
    if (++p->depth > 200) { p->err = "nesting too deep"; return NULL; }
    p->pos++; // { or [
    cnn_json *c = new_value(object ? CNN_JSON_OBJECT : CNN_JSON_ARRAY);
    if (!c) { p->err = "out of memory"; return NULL; }
    skip_ws(p);
    char close = object ? '}' : ']';
    if (p->pos < p->len && p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return c;
    }
    while (1) {
        char *key = NULL;
        skip_ws(p);
        if (object) {
            if (p->pos >= p->len || p->s[p->pos] != '"') { p->err = "expected a member name in quotes"; goto fail; }
            key = parse_string(p);
            if (!key) goto fail;
            skip_ws(p);
            if (p->pos >= p->len || p->s[p->pos] != ':') { free(key); p->err = "expected ':'"; goto fail; }
            p->pos++;
        }
        cnn_json *item = parse_value(p);
        if (!item) { free(key); goto fail; }
        if (!push_item(c, item, key)) { cnn_json_free(item); free(key); p->err = "out of memory"; goto fail; }
        skip_ws(p);
        if (p->pos >= p->len) { p->err = "unexpected end of input"; goto fail; }
        char ch = p->s[p->pos++];
        if (ch == ',') continue;
        if (ch == close) break;
        p->err = object ? "expected ',' or '}'" : "expected ',' or ']'";
        goto fail;
    }
    p->depth--;
    return c;
fail:
    cnn_json_free(c);
    return NULL;
}

static cnn_json *parse_value(parser *p) {
    skip_ws(p);
    if (p->pos >= p->len) { p->err = "unexpected end of input"; return NULL; }
    char c = p->s[p->pos];
    if (c == '{') return parse_container(p, 1);
    if (c == '[') return parse_container(p, 0);
    if (c == '"') {
        char *s = parse_string(p);
        if (!s) return NULL;
        cnn_json *v = new_value(CNN_JSON_STRING);
        if (!v) { free(s); p->err = "out of memory"; return NULL; }
        v->string = s;
        return v;
    }
    static const struct { const char *word; cnn_json_type t; double num; } words[] = {
        {"null", CNN_JSON_NULL, 0}, {"true", CNN_JSON_BOOL, 1}, {"false", CNN_JSON_BOOL, 0},
        {"NaN", CNN_JSON_NULL, 0}}; // NaN: tolerated, read as null
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
        size_t wl = strlen(words[i].word);
        if (p->len - p->pos >= wl && !strncmp(p->s + p->pos, words[i].word, wl)) {
            p->pos += wl;
            cnn_json *v = new_value(words[i].t);
            if (!v) { p->err = "out of memory"; return NULL; }
            v->number = words[i].num;
            return v;
        }
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        char buf[64];
        size_t k = 0;
        while (p->pos < p->len && k + 1 < sizeof buf && strchr("+-0123456789.eE", p->s[p->pos])) buf[k++] = p->s[p->pos++];
        buf[k] = '\0';
        char *end;
        double d = strtod(buf, &end);
        if (end == buf || *end) { p->err = "bad number"; return NULL; }
        cnn_json *v = new_value(CNN_JSON_NUMBER);
        if (!v) { p->err = "out of memory"; return NULL; }
        v->number = d;
        return v;
    }
    p->err = "unexpected character";
    return NULL;
}

cnn_status cnn_json_parse(const char *text, size_t len, cnn_json **out) {
    *out = NULL;
    parser p = {text, len, 0, 0, NULL};
    cnn_json *v = parse_value(&p);
    if (v) {
        skip_ws(&p);
        if (p.pos < p.len) {
            p.err = "trailing characters after the value";
            cnn_json_free(v);
            v = NULL;
        }
    }
    if (!v) {
        int line = 1, col = 1;
        for (size_t i = 0; i < p.pos && i < len; i++) {
            if (text[i] == '\n') { line++; col = 1; }
            else col++;
        }
        return cnn_error(CNN_ERR_FORMAT, "JSON: %s at line %d, column %d", p.err ? p.err : "parse error", line, col);
    }
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
