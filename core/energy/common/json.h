// JSON for the run record, on cJSON (Debian's libcjson-dev): a streaming
// writer (NaN and infinities written as null) that builds a cJSON tree and
// prints it when the top-level value closes, and a parser that turns cJSON's
// tree into the plain tree below (internal to core/energy and cnn-train).
#ifndef CNN_ENERGY_JSON_H
#define CNN_ENERGY_JSON_H

#include <stddef.h>
#include <stdio.h>

#include "core/status.h"

#ifdef __cplusplus
extern "C" {
#endif

// ---- writer ----
#define CNN_JSON_MAX_DEPTH 32
typedef struct {
    FILE *f;
    int depth;
    void *open[CNN_JSON_MAX_DEPTH]; // the cJSON containers being filled, outermost first
    int failed;                     // out of memory or nested too deep: nothing is printed
} cnn_json_writer;

// The document is printed to f when its top-level value is complete.
void cnn_jw_init(cnn_json_writer *w, FILE *f);
// key is the member name inside an object, NULL inside an array or at the top.
void cnn_jw_object(cnn_json_writer *w, const char *key);
void cnn_jw_end_object(cnn_json_writer *w);
void cnn_jw_array(cnn_json_writer *w, const char *key);
void cnn_jw_end_array(cnn_json_writer *w);
void cnn_jw_string(cnn_json_writer *w, const char *key, const char *s); // NULL s: null
void cnn_jw_number(cnn_json_writer *w, const char *key, double v);      // NaN/inf: null
void cnn_jw_int(cnn_json_writer *w, const char *key, long long v);
void cnn_jw_bool(cnn_json_writer *w, const char *key, int v);
void cnn_jw_null(cnn_json_writer *w, const char *key);
// Writes s as a JSON string literal (quotes and escapes) to f.
void cnn_json_write_escaped(FILE *f, const char *s);

// ---- parser ----
typedef enum { CNN_JSON_NULL, CNN_JSON_BOOL, CNN_JSON_NUMBER, CNN_JSON_STRING, CNN_JSON_ARRAY, CNN_JSON_OBJECT } cnn_json_type;

typedef struct cnn_json cnn_json;
struct cnn_json {
    cnn_json_type type;
    double number;   // NUMBER; BOOL: 0 or 1
    char *string;    // STRING
    int n;           // ARRAY / OBJECT: number of items
    cnn_json **items;
    char **keys;     // OBJECT
};

// Parses text (len bytes). On error returns CNN_ERR_FORMAT with the line and column.
cnn_status cnn_json_parse(const char *text, size_t len, cnn_json **out);
void cnn_json_free(cnn_json *v);
// Member `key` of an object (NULL when v is not an object or lacks it).
const cnn_json *cnn_json_get(const cnn_json *v, const char *key);
// Item i of an array (NULL when out of range).
const cnn_json *cnn_json_at(const cnn_json *v, int i);
int cnn_json_len(const cnn_json *v); // items of an array or object, else 0
// The number (NaN when v is NULL, null or not a number).
double cnn_json_num(const cnn_json *v);
// The string (dflt when v is NULL or not a string).
const char *cnn_json_str(const cnn_json *v, const char *dflt);

#ifdef __cplusplus
}
#endif
#endif
