// The run record's JSON (our API on cJSON): escaping, number formatting,
// NaN as null, nesting, a write-then-parse round trip, and parse errors with
// line and column.
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/energy/common/json.h"
#include "test_util.h"

static void test_round_trip(void) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    cnn_json_writer w;
    cnn_jw_init(&w, f);
    cnn_jw_object(&w, NULL);
    cnn_jw_string(&w, "text", "quote \" backslash \\ newline \n tab \t ctrl \x01 utf8 \xc3\xa9");
    cnn_jw_number(&w, "pi", 3.14159265358979);
    cnn_jw_number(&w, "nan", NAN);
    cnn_jw_number(&w, "inf", INFINITY);
    cnn_jw_int(&w, "big", 1234567890123LL);
    cnn_jw_bool(&w, "yes", 1);
    cnn_jw_null(&w, "nothing");
    cnn_jw_string(&w, "nullstr", NULL);
    cnn_jw_array(&w, "list");
    cnn_jw_number(&w, NULL, 1);
    cnn_jw_object(&w, NULL);
    cnn_jw_number(&w, "x", -2.5e-7);
    cnn_jw_end_object(&w);
    cnn_jw_array(&w, NULL);
    cnn_jw_end_array(&w);
    cnn_jw_end_array(&w);
    cnn_jw_object(&w, "empty");
    cnn_jw_end_object(&w);
    cnn_jw_end_object(&w);
    fclose(f);

    // the text as written: escapes, integers as integers, shortest round-trip doubles, null for NaN
    CHECK(strstr(buf, "\"quote \\\" backslash \\\\ newline \\n tab \\t ctrl \\u0001 utf8 \xc3\xa9\"") != NULL);
    CHECK(strstr(buf, "1234567890123") != NULL && strstr(buf, "e+") == NULL);
    CHECK(strstr(buf, "3.14159265358979") != NULL);
    CHECK(strstr(buf, "-2.5e-07") != NULL || strstr(buf, "-2.5e-7") != NULL);
    CHECK(strstr(buf, "null") != NULL && strstr(buf, "nan\"") != NULL && strstr(buf, "NaN") == NULL &&
          strstr(buf, "inf,") == NULL && strstr(buf, "Infinity") == NULL);

    cnn_json *j = NULL;
    CHECK_OK(cnn_json_parse(buf, len, &j));
    CHECK(j && j->type == CNN_JSON_OBJECT);
    CHECK(!strcmp(cnn_json_str(cnn_json_get(j, "text"), ""),
                  "quote \" backslash \\ newline \n tab \t ctrl \x01 utf8 \xc3\xa9"));
    CHECK(cnn_json_num(cnn_json_get(j, "pi")) == 3.14159265358979);
    CHECK(cnn_json_get(j, "nan")->type == CNN_JSON_NULL && isnan(cnn_json_num(cnn_json_get(j, "nan"))));
    CHECK(cnn_json_get(j, "inf")->type == CNN_JSON_NULL);
    CHECK(cnn_json_num(cnn_json_get(j, "big")) == 1234567890123.0);
    CHECK(cnn_json_get(j, "yes")->type == CNN_JSON_BOOL && cnn_json_get(j, "yes")->number == 1);
    CHECK(cnn_json_get(j, "nothing")->type == CNN_JSON_NULL);
    CHECK(cnn_json_get(j, "nullstr")->type == CNN_JSON_NULL);
    const cnn_json *list = cnn_json_get(j, "list");
    CHECK(cnn_json_len(list) == 3);
    CHECK(cnn_json_num(cnn_json_get(cnn_json_at(list, 1), "x")) == -2.5e-7);
    CHECK(cnn_json_at(list, 2)->type == CNN_JSON_ARRAY && cnn_json_len(cnn_json_at(list, 2)) == 0);
    CHECK(cnn_json_at(list, 3) == NULL);
    CHECK(cnn_json_get(j, "empty")->type == CNN_JSON_OBJECT && cnn_json_len(cnn_json_get(j, "empty")) == 0);
    CHECK(cnn_json_get(j, "missing") == NULL);
    CHECK(!strcmp(cnn_json_str(cnn_json_get(j, "missing"), "dflt"), "dflt"));
    cnn_json_free(j);
    free(buf);
}

static void test_parse(void) {
    cnn_json *j = NULL;
    const char *ok = " [1, -2.5e3, \"\\u00e9\\ud83d\\ude00\", true, false, null, {\"a\": {\"b\": [ ]}}] ";
    CHECK_OK(cnn_json_parse(ok, strlen(ok), &j));
    CHECK(cnn_json_len(j) == 7);
    CHECK(cnn_json_num(cnn_json_at(j, 1)) == -2500.0);
    CHECK(!strcmp(cnn_json_str(cnn_json_at(j, 2), ""), "\xc3\xa9\xf0\x9f\x98\x80"));
    cnn_json_free(j);

    static const char *const bad[] = {"", "{", "{\"a\" 1}", "[1,]", "[1 2]", "{\"a\":1} x", "\"abc", "tru",
                                      "{\"a\":\"\\q\"}", "[\"\x01\"]"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        j = NULL;
        cnn_status s = cnn_json_parse(bad[i], strlen(bad[i]), &j);
        if (s != CNN_ERR_FORMAT) fprintf(stderr, "  accepted bad JSON #%zu: %s\n", i, bad[i]);
        CHECK(s == CNN_ERR_FORMAT && j == NULL);
        CHECK(strstr(cnn_last_error(), "line 1") != NULL);
    }
    const char *two_lines = "{\n  \"a\": ]\n}";
    CHECK(cnn_json_parse(two_lines, strlen(two_lines), &j) == CNN_ERR_FORMAT);
    CHECK(strstr(cnn_last_error(), "line 2, column 8") != NULL);
}

int main(void) {
    test_round_trip();
    test_parse();
    return test_finish("test_energy_json");
}
