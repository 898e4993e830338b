/* The common rows of a `courseware_studentmodule` dump turned into `studentmodule` and
   `problem_analysis` JSON lines in C.

   `scripts/edxflow/derived/studentmodule.py` is the definition of both tables; this is a fast path
   for the rows whose every field is in its usual form: ASCII, eleven fields, decimal ids, the
   dump's own timestamp form, plain decimal grades and a state that is strict JSON. Any other row
   is handed back whole (`slow`) to the Python code, and so is any problem state in a form the
   problem_analysis code here does not take (`analysis`: floats, repeated keys, keys with escapes,
   non-string messages, ...). The output is the same byte for byte with or without this module;
   tests/test_native.py checks that on ordinary, odd and random rows. */

#define _GNU_SOURCE /* memmem */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <string.h>

#define FIELDS 11
#define MAX_DEPTH 256
#define FLUSH_AT (1 << 20)

#include "json_out.h"

/* ---- strict JSON, as orjson accepts it; 0 also means "not sure" (the row goes to Python) ---- */

typedef struct {
    const char *p, *end;
    int depth;
    int escaped_key; /* a key spelled with escapes could be `correct_map` in disguise */
} Json;

static void skip_space(Json *json) {
    while (json->p < json->end && (*json->p == ' ' || *json->p == '\t' || *json->p == '\n' || *json->p == '\r'))
        json->p++;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int valid_string(Json *json, int is_key) {
    const char *p = json->p + 1, *end = json->end;
    while (p < end) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            json->p = p + 1;
            return 1;
        }
        if (c < 0x20 || c >= 0x80)
            return 0;
        if (c != '\\') {
            p++;
            continue;
        }
        if (is_key)
            json->escaped_key = 1;
        if (p + 1 >= end)
            return 0;
        char escape = p[1];
        if (escape == 'u') {
            if (p + 6 > end)
                return 0;
            int code = 0;
            for (int i = 2; i < 6; i++) {
                int digit = hex_value(p[i]);
                if (digit < 0)
                    return 0;
                code = code * 16 + digit;
            }
            if (code >= 0xD800 && code <= 0xDFFF) /* surrogates: left to Python's judgement */
                return 0;
            p += 6;
        } else if (strchr("\"\\/bfnrt", escape) != NULL && escape != '\0') {
            p += 2;
        } else {
            return 0;
        }
    }
    return 0;
}

static int digits(Json *json) {
    const char *start = json->p;
    while (json->p < json->end && *json->p >= '0' && *json->p <= '9')
        json->p++;
    return (int)(json->p - start);
}

static int valid_number(Json *json) {
    const char *start = json->p;
    if (*json->p == '-')
        json->p++;
    if (json->p < json->end && *json->p == '0')
        json->p++;
    else if (digits(json) == 0)
        return 0;
    if (json->p < json->end && *json->p == '.') {
        json->p++;
        if (digits(json) == 0)
            return 0;
    }
    if (json->p < json->end && (*json->p == 'e' || *json->p == 'E')) {
        json->p++;
        if (json->p < json->end && (*json->p == '+' || *json->p == '-'))
            json->p++;
        int exponent = digits(json);
        if (exponent == 0 || exponent > 2) /* 1e400 is infinity, which orjson refuses */
            return 0;
    }
    return json->p - start <= 30;
}

static int valid_literal(Json *json, const char *word, Py_ssize_t n) {
    if (json->end - json->p < n || memcmp(json->p, word, n) != 0)
        return 0;
    json->p += n;
    return 1;
}

static int valid_value(Json *json);

static int valid_container(Json *json, char close, int object) {
    if (++json->depth > MAX_DEPTH)
        return 0;
    json->p++;
    skip_space(json);
    if (json->p < json->end && *json->p == close) {
        json->p++;
        json->depth--;
        return 1;
    }
    for (;;) {
        if (object) {
            if (json->p >= json->end || *json->p != '"' || !valid_string(json, 1))
                return 0;
            skip_space(json);
            if (json->p >= json->end || *json->p != ':')
                return 0;
            json->p++;
            skip_space(json);
        }
        if (!valid_value(json))
            return 0;
        skip_space(json);
        if (json->p >= json->end)
            return 0;
        if (*json->p == close) {
            json->p++;
            json->depth--;
            return 1;
        }
        if (*json->p != ',')
            return 0;
        json->p++;
        skip_space(json);
    }
}

static int valid_value(Json *json) {
    if (json->p >= json->end)
        return 0;
    switch (*json->p) {
    case '{': return valid_container(json, '}', 1);
    case '[': return valid_container(json, ']', 0);
    case '"': return valid_string(json, 0);
    case 't': return valid_literal(json, "true", 4);
    case 'f': return valid_literal(json, "false", 5);
    case 'n': return valid_literal(json, "null", 4);
    default: return valid_number(json);
    }
}

static int valid_json(const char *text, Py_ssize_t n, int *escaped_key) {
    Json json = {text, text + n, 0, 0};
    skip_space(&json);
    if (!valid_value(&json))
        return 0;
    skip_space(&json);
    *escaped_key = json.escaped_key;
    return json.p == json.end;
}

/* ---- the dump's fields ---- */

typedef struct {
    const char *text;
    Py_ssize_t len;
    int null; /* MySQL's NULL or \N */
} Field;

static int is_digit(char c) { return c >= '0' && c <= '9'; }

/* `null` in any case, which some dumps write besides NULL */
static int is_null_text(const Field *field) {
    return field->null || (field->len == 4 && (field->text[0] | 0x20) == 'n' && (field->text[1] | 0x20) == 'u' &&
                           (field->text[2] | 0x20) == 'l' && (field->text[3] | 0x20) == 'l');
}

/* The dump's escapes undone into `scratch` (which has room for the whole line); an unknown escape
   keeps its backslash, as the Python reader does. */
static void unescape(Field *field, char **scratch) {
    const char *in = field->text, *end = in + field->len;
    char *start = *scratch, *out = start;
    while (in < end) {
        if (*in != '\\' || in + 1 >= end) {
            *out++ = *in++;
            continue;
        }
        char c = in[1];
        switch (c) {
        case 't': *out++ = '\t'; break;
        case 'n': *out++ = '\n'; break;
        case 'r': *out++ = '\r'; break;
        case '\\': *out++ = '\\'; break;
        case '0': *out++ = '\0'; break;
        case 'Z': *out++ = '\x1a'; break;
        case 'b': *out++ = '\b'; break;
        case '\'': *out++ = '\''; break;
        case '"': *out++ = '"'; break;
        default: *out++ = '\\'; *out++ = c;
        }
        in += 2;
    }
    field->text = start;
    field->len = out - start;
    *scratch = out;
}

/* A decimal id, written without leading zeros (as int() reads it); 0 when not that simple. */
static int put_integer(Buffer *buffer, const Field *field, long long *value) {
    if (field->null) {
        PUT_LITERAL(buffer, "null");
        return 1;
    }
    if (field->len == 0 || field->len > 18)
        return 0;
    long long number = 0;
    for (Py_ssize_t i = 0; i < field->len; i++) {
        if (!is_digit(field->text[i]))
            return 0;
        number = number * 10 + (field->text[i] - '0');
    }
    Py_ssize_t zeros = 0;
    while (zeros < field->len - 1 && field->text[zeros] == '0')
        zeros++;
    put(buffer, field->text + zeros, field->len - zeros);
    *value = number;
    return 1;
}

/* A grade as float() reads it and orjson writes it; only plain decimals that need no exponent. */
static int put_float(Buffer *buffer, const Field *field, double *value) {
    if (field->null) {
        PUT_LITERAL(buffer, "null");
        return 1;
    }
    Py_ssize_t n = field->len, i = 0, digit_count = 0, dots = 0;
    const char *text = field->text;
    if (n == 0 || n > 24)
        return 0;
    if (text[0] == '-')
        i = 1;
    for (Py_ssize_t j = i; j < n; j++) {
        if (is_digit(text[j]))
            digit_count++;
        else if (text[j] == '.')
            dots++;
        else
            return 0;
    }
    if (digit_count == 0 || dots > 1)
        return 0;
    if (dots == 0 && digit_count <= 15) { /* exact as a double: written as float() then repr would */
        Field integral = {text + i, n - i, 0};
        long long number;
        if (i)
            buffer->data[buffer->len++] = '-';
        put_integer(buffer, &integral, &number);
        PUT_LITERAL(buffer, ".0");
        *value = i ? -(double)number : (double)number;
        return 1;
    }
    char copy[32];
    memcpy(copy, text, n);
    copy[n] = '\0';
    char *stop;
    double number = PyOS_string_to_double(copy, &stop, NULL);
    if (number == -1.0 && PyErr_Occurred()) {
        PyErr_Clear();
        return 0;
    }
    if (stop != copy + n || !isfinite(number))
        return 0;
    char *shortest = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (shortest == NULL)
        return -1;
    int plain = strchr(shortest, 'e') == NULL;
    if (plain)
        put(buffer, shortest, (Py_ssize_t)strlen(shortest));
    PyMem_Free(shortest);
    *value = number;
    return plain;
}

static int two_digits(const char *text) {
    if (!is_digit(text[0]) || !is_digit(text[1]))
        return -1;
    return (text[0] - '0') * 10 + (text[1] - '0');
}

/* `YYYY-MM-DD HH:MM:SS[.ffffff]`, a real date and time: the dump's own form, written with +00:00. */
static int dump_time(const Field *field) {
    const char *t = field->text;
    if (field->len != 19 && field->len != 26)
        return 0;
    if (t[4] != '-' || t[7] != '-' || t[10] != ' ' || t[13] != ':' || t[16] != ':')
        return 0;
    int century = two_digits(t), year_in = two_digits(t + 2), month = two_digits(t + 5), day = two_digits(t + 8);
    int hour = two_digits(t + 11), minute = two_digits(t + 14), second = two_digits(t + 17);
    if (century < 0 || year_in < 0 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 ||
        minute > 59 || second < 0 || second > 59)
        return 0;
    int year = century * 100 + year_in;
    static const int DAYS[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (year < 1 || day > DAYS[month - 1] + (month == 2 && leap))
        return 0;
    if (field->len == 26) {
        if (t[19] != '.')
            return 0;
        for (int i = 20; i < 26; i++)
            if (!is_digit(t[i]))
                return 0;
    }
    return 1;
}

static int put_time(Buffer *buffer, const Field *field) {
    if (field->null) {
        PUT_LITERAL(buffer, "null");
        return 1;
    }
    if (!dump_time(field))
        return 0;
    buffer->data[buffer->len++] = '"';
    put(buffer, field->text, field->len);
    PUT_LITERAL(buffer, "+00:00\"");
    return 1;
}

static void put_text_or_null(Buffer *buffer, const Field *field) {
    if (is_null_text(field))
        PUT_LITERAL(buffer, "null");
    else
        put_string(buffer, field->text, field->len);
}

/* ---- per-course lookups, cached in dicts the caller keeps across chunks ---- */

/* `value` (None or a str) as JSON bytes, as orjson writes it. */
static PyObject *json_bytes(PyObject *value) {
    if (value == Py_None)
        return PyBytes_FromString("null");
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "a lookup must give a str or None");
        return NULL;
    }
    Py_ssize_t n;
    const char *text = PyUnicode_AsUTF8AndSize(value, &n);
    Buffer buffer = {NULL, 0, 0};
    PyObject *json = NULL;
    if (text != NULL && reserve(&buffer, 6 * n + 2) == 0) {
        put_string(&buffer, text, n);
        json = PyBytes_FromStringAndSize(buffer.data, buffer.len);
    }
    PyMem_Free(buffer.data);
    return json;
}

/* The entry of a key not yet in the cache, stored there (a borrowed reference). Module keys, from
   names() -> (module_id, url_name): (module_id JSON, url_name, url_name JSON). Courses, from
   course_of() -> course: (course JSON, course). */
static PyObject *computed(PyObject *cache, PyObject *function, const Field *field, PyObject *key, int names) {
    PyObject *argument = field->null ? Py_NewRef(Py_None) : PyUnicode_DecodeASCII(field->text, field->len, NULL);
    PyObject *result = argument ? PyObject_CallOneArg(function, argument) : NULL;
    Py_XDECREF(argument);
    if (result == NULL)
        return NULL;
    PyObject *entry = NULL;
    if (!names) {
        PyObject *json = json_bytes(result);
        entry = json ? PyTuple_Pack(2, json, result) : NULL;
        Py_XDECREF(json);
    } else if (!PyTuple_Check(result) || PyTuple_GET_SIZE(result) != 2) {
        PyErr_SetString(PyExc_TypeError, "names() must give (module_id, url_name)");
    } else {
        PyObject *module_json = json_bytes(PyTuple_GET_ITEM(result, 0));
        PyObject *url_json = module_json ? json_bytes(PyTuple_GET_ITEM(result, 1)) : NULL;
        entry = url_json ? PyTuple_Pack(3, module_json, PyTuple_GET_ITEM(result, 1), url_json) : NULL;
        Py_XDECREF(module_json);
        Py_XDECREF(url_json);
    }
    Py_DECREF(result);
    if (entry == NULL || PyDict_SetItem(cache, key, entry) < 0) {
        Py_XDECREF(entry);
        return NULL;
    }
    Py_DECREF(entry); /* the cache holds it */
    return entry;
}

/* The last key looked up and its entry (strong references), for fields that repeat row after row. */
typedef struct {
    PyObject *key, *entry;
} Memo;

static int same_key(PyObject *key, const Field *field) {
    if (field->null || key == Py_None)
        return field->null && key == Py_None;
    return PyBytes_GET_SIZE(key) == field->len && memcmp(PyBytes_AS_STRING(key), field->text, field->len) == 0;
}

/* The cache entry of a field (see computed); the key is the field's bytes, or None for a NULL field. */
static PyObject *lookup(PyObject *cache, PyObject *function, const Field *field, int names, Memo *memo) {
    if (memo->key != NULL && same_key(memo->key, field))
        return memo->entry;
    PyObject *key = field->null ? Py_NewRef(Py_None) : PyBytes_FromStringAndSize(field->text, field->len);
    if (key == NULL)
        return NULL;
    PyObject *entry = PyDict_GetItemWithError(cache, key);
    if (entry == NULL && !PyErr_Occurred())
        entry = computed(cache, function, field, key, names);
    if (entry != NULL) {
        Py_XSETREF(memo->key, Py_NewRef(key));
        Py_XSETREF(memo->entry, Py_NewRef(entry));
    }
    Py_DECREF(key);
    return entry;
}

static void put_entry(Buffer *buffer, PyObject *entry) {
    PyObject *json = PyTuple_GET_ITEM(entry, 0);
    put(buffer, PyBytes_AS_STRING(json), PyBytes_GET_SIZE(json));
}

/* ---- problem_analysis rows of the common problem states ---- */

/* problem_row's verdicts besides -1 (an error): */
#define NO_ROW 0    /* the state is not a checked problem's */
#define ROW 1       /* written */
#define TO_PYTHON 2 /* a form this code leaves to Python: nothing written */

static int emit(Buffer *buffer, const char *text, Py_ssize_t n) {
    if (reserve(buffer, n) < 0)
        return -1;
    put(buffer, text, n);
    return 0;
}

#define EMIT_LITERAL(buffer, text) emit(buffer, text, sizeof(text) - 1)

typedef struct {
    const char *start, *end;
} Span;

static int emit_span(Buffer *buffer, Span span) { return emit(buffer, span.start, span.end - span.start); }

static int span_is(Span span, const char *word) {
    Py_ssize_t n = (Py_ssize_t)strlen(word);
    return span.end - span.start == n && memcmp(span.start, word, n) == 0;
}

static int same_span(Span a, Span b) {
    return a.end - a.start == b.end - b.start && memcmp(a.start, b.start, a.end - a.start) == 0;
}

/* The next member of a validated object (`json` inside it); keys are spans without their quotes. */
static int next_member(Json *json, Span *key, Span *value) {
    skip_space(json);
    if (*json->p == ',') {
        json->p++;
        skip_space(json);
    }
    if (*json->p != '"')
        return 0;
    key->start = json->p + 1;
    valid_string(json, 1);
    key->end = json->p - 1;
    skip_space(json);
    json->p++; /* : */
    skip_space(json);
    value->start = json->p;
    valid_value(json);
    value->end = json->p;
    return 1;
}

static Json inside(Span container) { return (Json){container.start + 1, container.end, 0, 0}; }

#define MAX_MEMBERS 64
#define MAX_COMPACT_DEPTH 16 /* each level holds 2 KB of spans on the stack */

/* The members of a validated object, at most MAX_MEMBERS and no key twice (Python would keep the
   last value at the first key's place); 0 otherwise. */
static int members(Span object, Span keys[], Span values[], int *count) {
    Json json = inside(object);
    Span key, value;
    *count = 0;
    while (next_member(&json, &key, &value)) {
        if (*count == MAX_MEMBERS)
            return 0;
        for (int i = 0; i < *count; i++)
            if (same_span(keys[i], key))
                return 0;
        keys[*count] = key;
        values[(*count)++] = value;
    }
    return 1;
}

/* The values of the named members of a validated object (missing ones stay {0}); 0 when
   members() refuses the object. */
static int named_members(Span object, const char *const names[], Span found[], int n) {
    Span keys[MAX_MEMBERS], values[MAX_MEMBERS];
    int count;
    if (!members(object, keys, values, &count))
        return 0;
    for (int i = 0; i < count; i++)
        for (int j = 0; j < n; j++)
            if (span_is(keys[i], names[j]))
                found[j] = values[i];
    return 1;
}

static int is_object(Span value) { return value.start != NULL && *value.start == '{'; }

static int is_missing_or_null(Span value) { return value.start == NULL || *value.start == 'n'; }

/* An integer literal orjson reads as an int that orjson writes back the same (not -0, not huge). */
static int plain_integer(Span value, int max_digits) {
    const char *p = value.start + (*value.start == '-');
    if (value.end - p < 1 || value.end - p > max_digits || span_is(value, "-0"))
        return 0;
    for (; p < value.end; p++)
        if (!is_digit(*p))
            return 0;
    return 1;
}

/* A validated JSON string (with its quotes) decoded, written as orjson writes the str. */
static int emit_decoded(Buffer *buffer, Span string) {
    if (reserve(buffer, 6 * (string.end - string.start) + 2) < 0)
        return -1;
    char *out = buffer->data + buffer->len;
    const char *p = string.start + 1, *end = string.end - 1;
    *out++ = '"';
    while (p < end) {
        if (*p != '\\') {
            out = escaped(out, (unsigned char)*p++);
            continue;
        }
        static const char SHORT[] = "\"\"\\\\//b\bf\fn\nr\rt\t";
        const char *found = p[1] == 'u' ? NULL : strchr(SHORT, p[1]);
        if (found != NULL) { /* the validator let only these and \u through */
            out = escaped(out, (unsigned char)found[1]);
            p += 2;
            continue;
        }
        int code = 0;
        for (int i = 2; i < 6; i++)
            code = code * 16 + hex_value(p[i]);
        p += 6;
        if (code < 0x80) { /* no surrogates: the validator left those to Python */
            out = escaped(out, (unsigned char)code);
        } else if (code < 0x800) {
            *out++ = (char)(0xC0 | (code >> 6));
            *out++ = (char)(0x80 | (code & 0x3F));
        } else {
            *out++ = (char)(0xE0 | (code >> 12));
            *out++ = (char)(0x80 | ((code >> 6) & 0x3F));
            *out++ = (char)(0x80 | (code & 0x3F));
        }
    }
    *out++ = '"';
    buffer->len = out - buffer->data;
    return 0;
}

/* A validated value written back compactly, as orjson.dumps(orjson.loads(value)) would: ROW,
   TO_PYTHON (floats, huge integers, repeated keys) or -1. */
static int emit_compact(Buffer *buffer, Span value, int depth) {
    char first = *value.start;
    if (first == '"')
        return emit_decoded(buffer, value) < 0 ? -1 : ROW;
    if (first != '[' && first != '{') { /* true, false, null or a number */
        if (first != 't' && first != 'f' && first != 'n' && !plain_integer(value, 18))
            return TO_PYTHON;
        return emit_span(buffer, value) < 0 ? -1 : ROW;
    }
    Span keys[MAX_MEMBERS], values[MAX_MEMBERS];
    int count = 0, verdict;
    if (depth > MAX_COMPACT_DEPTH)
        return TO_PYTHON;
    if (first == '{') {
        if (!members(value, keys, values, &count))
            return TO_PYTHON;
    } else {
        Json json = inside(value);
        for (;;) {
            skip_space(&json);
            if (*json.p == ',') {
                json.p++;
                skip_space(&json);
            }
            if (*json.p == ']')
                break;
            if (count == MAX_MEMBERS)
                return TO_PYTHON;
            values[count].start = json.p;
            valid_value(&json);
            values[count++].end = json.p;
        }
    }
    if (emit(buffer, first == '{' ? "{" : "[", 1) < 0)
        return -1;
    for (int i = 0; i < count; i++) {
        if (i && emit(buffer, ",", 1) < 0)
            return -1;
        if (first == '{') {
            if (reserve(buffer, 6 * (keys[i].end - keys[i].start) + 3) < 0)
                return -1;
            put_string(buffer, keys[i].start, keys[i].end - keys[i].start);
            put(buffer, ":", 1);
        }
        if ((verdict = emit_compact(buffer, values[i], depth + 1)) != ROW)
            return verdict;
    }
    return emit(buffer, first == '{' ? "}" : "]", 1) < 0 ? -1 : ROW;
}

/* A string, or null when missing or null; TO_PYTHON for other types (Python converts them). */
static int emit_text(Buffer *buffer, Span value) {
    if (is_missing_or_null(value))
        return EMIT_LITERAL(buffer, "null") < 0 ? -1 : ROW;
    if (*value.start != '"')
        return TO_PYTHON;
    return emit_decoded(buffer, value) < 0 ? -1 : ROW;
}

/* One item of problem_analysis: an answer field of `correct_map` and its response. */
static int emit_item(Buffer *buffer, Buffer *compact, Span answer_id, Span entry, const Span answer_keys[],
                     const Span answer_values[], int answers) {
    static const char *const NAMES[] = {"correctness", "npoints", "msg", "hint"};
    Span found[4] = {{0}};
    int verdict;
    if (is_object(entry) && !named_members(entry, NAMES, found, 4)) /* anything else counts as {} */
        return TO_PYTHON;
    Span correctness = found[0], npoints = found[1], msg = found[2], hint = found[3];
    if (EMIT_LITERAL(buffer, "{\"answer_id\":") < 0 || reserve(buffer, 6 * (answer_id.end - answer_id.start) + 2) < 0)
        return -1;
    put_string(buffer, answer_id.start, answer_id.end - answer_id.start);
    if (EMIT_LITERAL(buffer, ",\"correctness\":") < 0)
        return -1;
    Py_ssize_t at = buffer->len;
    if ((verdict = emit_text(buffer, correctness)) != ROW)
        return verdict;
    const char *correct_bool = is_missing_or_null(correctness) ? "null"
                               : buffer->len - at == 9 && memcmp(buffer->data + at, "\"correct\"", 9) == 0 ? "true"
                                                                                                       : "false";
    if (EMIT_LITERAL(buffer, ",\"correct_bool\":") < 0 || emit(buffer, correct_bool, strlen(correct_bool)) < 0 ||
        EMIT_LITERAL(buffer, ",\"npoints\":") < 0)
        return -1;
    if (is_missing_or_null(npoints)) {
        if (EMIT_LITERAL(buffer, "null") < 0)
            return -1;
    } else if (!plain_integer(npoints, 15)) { /* exact as a float, written as float() then orjson would */
        return TO_PYTHON;
    } else if (emit(buffer, npoints.start, npoints.end - npoints.start) < 0 || EMIT_LITERAL(buffer, ".0") < 0) {
        return -1;
    }
    if (EMIT_LITERAL(buffer, ",\"msg\":") < 0)
        return -1;
    if ((verdict = emit_text(buffer, msg)) != ROW)
        return verdict;
    if (EMIT_LITERAL(buffer, ",\"hint\":") < 0)
        return -1;
    if ((verdict = emit_text(buffer, hint)) != ROW)
        return verdict;
    if (EMIT_LITERAL(buffer, ",\"response\":") < 0)
        return -1;
    int answer = 0;
    while (answer < answers && !same_span(answer_keys[answer], answer_id))
        answer++;
    if (answer == answers)
        return EMIT_LITERAL(buffer, "null}") < 0 ? -1 : ROW;
    compact->len = 0;
    if ((verdict = emit_compact(compact, answer_values[answer], 0)) != ROW)
        return verdict;
    if (reserve(buffer, 6 * compact->len + 3) < 0)
        return -1;
    put_string(buffer, compact->data, compact->len);
    put(buffer, "}", 1);
    return ROW;
}

/* JSON texts already written in the studentmodule row, reused in the problem_analysis row. */
typedef struct {
    Span course, user_id, url_name, grade, max_grade, created;
} Written;

/* The problem_analysis row of a validated state whose keys have no escapes, as the Python
   StudentmoduleSplit.analysis writes it; nothing is left in `buffer` unless the verdict is ROW. */
static int problem_row(Buffer *buffer, Buffer *compact, Span state, const Written *written) {
    Json json = {state.start, state.end, 0, 0};
    skip_space(&json);
    if (*json.p != '{')
        return NO_ROW;
    static const char *const NAMES[] = {"correct_map", "student_answers", "attempts", "done"};
    Span top = {json.p, state.end}, found[4] = {{0}};
    if (!named_members(top, NAMES, found, 4))
        return TO_PYTHON;
    Span correct_map = found[0], answers = found[1], attempts = found[2], finished = found[3];
    Span answer_ids[MAX_MEMBERS], entries[MAX_MEMBERS], answer_keys[MAX_MEMBERS], answer_values[MAX_MEMBERS];
    int items, answer_count;
    if (!is_object(correct_map) || !is_object(answers))
        return NO_ROW;
    if (!members(correct_map, answer_ids, entries, &items) || !members(answers, answer_keys, answer_values, &answer_count))
        return TO_PYTHON;
    if (items == 0 || answer_count == 0)
        return NO_ROW;
    if (!is_missing_or_null(attempts) && !plain_integer(attempts, 18))
        return TO_PYTHON;
    if (!is_missing_or_null(finished) && *finished.start != 't' && *finished.start != 'f')
        return TO_PYTHON;

    Py_ssize_t row_start = buffer->len;
    int verdict = -1;
    if (EMIT_LITERAL(buffer, "{\"course_id\":") < 0 || emit_span(buffer, written->course) < 0 ||
        EMIT_LITERAL(buffer, ",\"user_id\":") < 0 || emit_span(buffer, written->user_id) < 0 ||
        EMIT_LITERAL(buffer, ",\"problem_url_name\":") < 0 || emit_span(buffer, written->url_name) < 0 ||
        EMIT_LITERAL(buffer, ",\"item\":[") < 0)
        goto unwritten;
    for (int i = 0; i < items; i++) {
        if (i && emit(buffer, ",", 1) < 0)
            goto unwritten;
        if ((verdict = emit_item(buffer, compact, answer_ids[i], entries[i], answer_keys, answer_values,
                                 answer_count)) != ROW)
            goto unwritten;
    }
    verdict = -1;
    if (EMIT_LITERAL(buffer, "],\"attempts\":") < 0 ||
        (is_missing_or_null(attempts) ? EMIT_LITERAL(buffer, "null") : emit_span(buffer, attempts)) < 0 ||
        EMIT_LITERAL(buffer, ",\"done\":") < 0 ||
        (is_missing_or_null(finished) ? EMIT_LITERAL(buffer, "null") : emit_span(buffer, finished)) < 0 ||
        EMIT_LITERAL(buffer, ",\"grade\":") < 0 || emit_span(buffer, written->grade) < 0 ||
        EMIT_LITERAL(buffer, ",\"max_grade\":") < 0 || emit_span(buffer, written->max_grade) < 0 ||
        EMIT_LITERAL(buffer, ",\"created\":") < 0 || emit_span(buffer, written->created) < 0 ||
        EMIT_LITERAL(buffer, "}\n") < 0)
        goto unwritten;
    return ROW;

unwritten:
    buffer->len = row_start;
    return verdict;
}

typedef struct {
    PyObject *key_cache, *course_cache, *names, *course_of, *write_modules, *write_analyses, *analysis, *slow;
    Memo key_memo, course_memo;
    Buffer out, analyses, scratch, compact;
    Py_ssize_t pending_rows, pending_analyses;
} Split;

static int flush_analyses(Split *split);

/* One line: 1 written, 0 left to Python, -1 error. */
static int fast_row(Split *split, const char *line, Py_ssize_t n) {
    if (n == 0 || line[n - 1] == '\r' || !is_ascii(line, n))
        return 0;
    Field fields[FIELDS];
    const char *start = line, *end = line + n;
    int count = 0;
    for (;;) {
        const char *tab = memchr(start, '\t', end - start);
        const char *stop = tab ? tab : end;
        if (count == FIELDS)
            return 0;
        fields[count].text = start;
        fields[count].len = stop - start;
        fields[count].null = (stop - start == 4 && memcmp(start, "NULL", 4) == 0) ||
                             (stop - start == 2 && memcmp(start, "\\N", 2) == 0);
        count++;
        if (tab == NULL)
            break;
        start = tab + 1;
    }
    if (count != FIELDS)
        return 0;
    split->scratch.len = 0;
    if (reserve(&split->scratch, n) < 0)
        return -1;
    char *scratch = split->scratch.data;
    for (int i = 0; i < FIELDS; i++)
        if (!fields[i].null && memchr(fields[i].text, '\\', fields[i].len) != NULL)
            unescape(&fields[i], &scratch);

    Field *id = &fields[0], *module_type = &fields[1], *module_key = &fields[2], *student = &fields[3],
          *state = &fields[4], *grade = &fields[5], *created = &fields[6], *modified = &fields[7],
          *max_grade = &fields[8], *done = &fields[9], *course = &fields[10];
    long long id_value, student_value = 0;
    double grade_value = 0, max_grade_value = 0;
    int escaped_key = 0, state_null = is_null_text(state), result;

    if (!state_null && !valid_json(state->text, state->len, &escaped_key))
        return 0;
    PyObject *names = lookup(split->key_cache, split->names, module_key, 1, &split->key_memo);
    PyObject *course_entry = names ? lookup(split->course_cache, split->course_of, course, 0, &split->course_memo) : NULL;
    if (course_entry == NULL)
        return -1;
    Buffer *out = &split->out;
    /* the fixed text and two timestamps' offsets are under 256 bytes; a field escapes to at most 6 per byte */
    if (reserve(out, 6 * n + 256 + PyBytes_GET_SIZE(PyTuple_GET_ITEM(names, 0)) +
                         PyBytes_GET_SIZE(PyTuple_GET_ITEM(course_entry, 0))) < 0)
        return -1;
    Py_ssize_t row_start = out->len;
    PUT_LITERAL(out, "{\"id\":");
    if (!put_integer(out, id, &id_value))
        goto left_to_python;
    PUT_LITERAL(out, ",\"module_type\":");
    put_text_or_null(out, module_type);
    PUT_LITERAL(out, ",\"module_id\":");
    put_entry(out, names);
    PUT_LITERAL(out, ",\"student_id\":");
    Py_ssize_t user_at = out->len;
    if (!put_integer(out, student, &student_value))
        goto left_to_python;
    Py_ssize_t user_end = out->len;
    PUT_LITERAL(out, ",\"state\":");
    if (state_null)
        PUT_LITERAL(out, "null");
    else
        put_string(out, state->text, state->len);
    PUT_LITERAL(out, ",\"grade\":");
    Py_ssize_t grade_at = out->len;
    if ((result = put_float(out, grade, &grade_value)) <= 0)
        goto failed;
    Py_ssize_t grade_end = out->len;
    PUT_LITERAL(out, ",\"created\":");
    Py_ssize_t created_at = out->len;
    if (!put_time(out, created))
        goto left_to_python;
    Py_ssize_t created_end = out->len;
    PUT_LITERAL(out, ",\"modified\":");
    if (!put_time(out, modified))
        goto left_to_python;
    PUT_LITERAL(out, ",\"max_grade\":");
    Py_ssize_t max_grade_at = out->len;
    if ((result = put_float(out, max_grade, &max_grade_value)) <= 0)
        goto failed;
    Py_ssize_t max_grade_end = out->len;
    PUT_LITERAL(out, ",\"done\":");
    put_text_or_null(out, done);
    PUT_LITERAL(out, ",\"course_id\":");
    put_entry(out, course_entry);
    PUT_LITERAL(out, "}\n");
    split->pending_rows++;

    if (state_null || (!escaped_key && memmem(state->text, state->len, "\"correct_map\"", 13) == NULL))
        return 1; /* no `correct_map` key: no problem_analysis row */
    if (!escaped_key) {
        const char *base = out->data;
        PyObject *course_json = PyTuple_GET_ITEM(course_entry, 0), *url_json = PyTuple_GET_ITEM(names, 2);
        Written written = {
            {PyBytes_AS_STRING(course_json), PyBytes_AS_STRING(course_json) + PyBytes_GET_SIZE(course_json)},
            {base + user_at, base + user_end},
            {PyBytes_AS_STRING(url_json), PyBytes_AS_STRING(url_json) + PyBytes_GET_SIZE(url_json)},
            {base + grade_at, base + grade_end},
            {base + max_grade_at, base + max_grade_end},
            {base + created_at, base + created_end},
        };
        Span state_span = {state->text, state->text + state->len};
        result = problem_row(&split->analyses, &split->compact, state_span, &written);
        if (result < 0)
            return -1;
        split->pending_analyses += result == ROW;
        if (result != TO_PYTHON)
            return 1;
    }
    /* Python's turn: what this code has written to problem_analysis goes first */
    if (flush_analyses(split) < 0)
        return -1;
    PyObject *args[7] = {
        PyUnicode_DecodeASCII(state->text, state->len, NULL),
        student->null ? Py_NewRef(Py_None) : PyLong_FromLongLong(student_value),
        Py_NewRef(PyTuple_GET_ITEM(names, 1)),
        grade->null ? Py_NewRef(Py_None) : PyFloat_FromDouble(grade_value),
        max_grade->null ? Py_NewRef(Py_None) : PyFloat_FromDouble(max_grade_value),
        created->null ? Py_NewRef(Py_None) : PyUnicode_DecodeASCII(out->data + created_at + 1, created->len + 6, NULL),
        Py_NewRef(PyTuple_GET_ITEM(course_entry, 1)),
    };
    PyObject *done_call = NULL;
    int complete = 1;
    for (int i = 0; i < 7; i++)
        complete &= args[i] != NULL;
    if (complete)
        done_call = PyObject_Vectorcall(split->analysis, args, 7, NULL);
    for (int i = 0; i < 7; i++)
        Py_XDECREF(args[i]);
    if (done_call == NULL)
        return -1;
    Py_DECREF(done_call);
    return 1;

failed:
    if (result < 0)
        return -1;
left_to_python:
    out->len = row_start;
    return 0;
}

/* Lines written here, handed to `write` with their count. */
static int hand_over(Buffer *buffer, Py_ssize_t *rows, PyObject *write) {
    if (buffer->len == 0)
        return 0;
    PyObject *data = PyBytes_FromStringAndSize(buffer->data, buffer->len);
    PyObject *count = data ? PyLong_FromSsize_t(*rows) : NULL;
    PyObject *result = count ? PyObject_CallFunctionObjArgs(write, data, count, NULL) : NULL;
    Py_XDECREF(data);
    Py_XDECREF(count);
    if (result == NULL)
        return -1;
    Py_DECREF(result);
    buffer->len = 0;
    *rows = 0;
    return 0;
}

static int flush_analyses(Split *split) {
    return hand_over(&split->analyses, &split->pending_analyses, split->write_analyses);
}

static int flush(Split *split) {
    return hand_over(&split->out, &split->pending_rows, split->write_modules) < 0 ? -1 : flush_analyses(split);
}

/* Buffers kept from call to call (fresh large ones cost page faults each time), and taken while in
   use: a callback may let another thread call in. */
static Buffer kept[4];

static void take_buffers(Split *split) {
    Buffer *buffers[4] = {&split->out, &split->analyses, &split->scratch, &split->compact};
    for (int i = 0; i < 4; i++) {
        *buffers[i] = kept[i];
        kept[i] = (Buffer){NULL, 0, 0};
    }
}

static void keep_buffers(Split *split) {
    Buffer *buffers[4] = {&split->out, &split->analyses, &split->scratch, &split->compact};
    for (int i = 0; i < 4; i++) {
        if (kept[i].data == NULL) {
            kept[i] = *buffers[i];
            kept[i].len = 0; /* a failed call may leave rows unwritten: they are not the next call's */
        } else {
            PyMem_Free(buffers[i]->data);
        }
    }
}

static PyObject *studentmodule_lines(PyObject *module, PyObject *args) {
    Py_buffer data;
    Py_ssize_t number;
    Split split = {0};
    if (!PyArg_ParseTuple(args, "y*nO!O!OOOOOO:studentmodule_lines", &data, &number, &PyDict_Type, &split.key_cache,
                          &PyDict_Type, &split.course_cache, &split.names, &split.course_of, &split.write_modules,
                          &split.write_analyses, &split.analysis, &split.slow))
        return NULL;
    take_buffers(&split);
    const char *p = data.buf, *end = p + data.len;
    Py_ssize_t fast = 0;
    int failed = 0;
    while (p < end && !failed) {
        const char *newline = memchr(p, '\n', end - p);
        const char *stop = newline ? newline : end;
        int result = fast_row(&split, p, stop - p);
        if (result < 0) {
            failed = 1;
        } else if (result > 0) {
            fast++;
            if (split.out.len > FLUSH_AT || split.analyses.len > FLUSH_AT)
                failed = flush(&split) < 0;
        } else if (flush(&split) < 0) {
            failed = 1;
        } else {
            PyObject *result = PyObject_CallFunction(split.slow, "ny#", number, p, (Py_ssize_t)(stop - p));
            failed = result == NULL;
            Py_XDECREF(result);
        }
        number++;
        p = newline ? newline + 1 : end;
    }
    if (!failed)
        failed = flush(&split) < 0;
    keep_buffers(&split);
    Py_XDECREF(split.key_memo.key);
    Py_XDECREF(split.key_memo.entry);
    Py_XDECREF(split.course_memo.key);
    Py_XDECREF(split.course_memo.entry);
    PyBuffer_Release(&data);
    return failed ? NULL : Py_BuildValue("nn", number, fast);
}

PyObject *native_module_id(PyObject *module, PyObject *value); /* tracklog.c */
PyObject *native_course_of(PyObject *module, PyObject *args);  /* tracklog.c */

static PyMethodDef METHODS[] = {
    {"studentmodule_lines", studentmodule_lines, METH_VARARGS,
     "studentmodule_lines(data, first_line, key_cache, course_cache, names, course_of, write_modules,"
     " write_analyses, analysis, slow) -> (next_line, rows_written)\n\n"
     "Writes the studentmodule and problem_analysis JSON lines of the dump lines in `data` through"
     " write_modules(bytes, rows) and write_analyses(bytes, rows). Lines it does not take go to"
     " slow(line_number, raw_line), and problem states it does not take to analysis(state, user_id,"
     " url_name, grade, max_grade, created, course), in order."},
    {"module_id", native_module_id, METH_O,
     "module_id(text) -> courses.module_id of ASCII text as the compiled split reads it (None for other text)"},
    {"course_of", native_course_of, METH_VARARGS,
     "course_of(kind, text, I4x) -> event_course.course_in_id (kind 'id') or course_in_url ('url') as the"
     " compiled split reads them (NotImplemented for text that is not ASCII or holds %)"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "edxflow_native",
                                    "Compiled fast paths of edxflow (optional: the Python code is the definition).",
                                    -1, METHODS};

int add_splitter(PyObject *module); /* tracklog.c */

PyMODINIT_FUNC PyInit_edxflow_native(void) {
    PyObject *module = PyModule_Create(&MODULE);
    if (module != NULL && add_splitter(module) < 0)
        Py_CLEAR(module);
    return module;
}
