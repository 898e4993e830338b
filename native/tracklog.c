/* The tracking-log split's per-line work in C: strip, de-duplicate, parse (orjson), check the
   time, find the course (the rule table of event_course.py, with the Python readers and their
   memos), find the block, and write the `tracking_log` row (tracklog.normalise) as orjson would,
   appended to the split's per-file buffers.

   scripts/edxflow/logs/ is the definition of every output. This is a fast path for the lines
   whose every step is in its usual form; any other line (not JSON, not an object, an unusual
   time, an i4x key without a run, a course met for the first time, a value a coercer changes in
   a way not written here, ...) is handed back to the Python code, which does the whole line.
   The output is the same byte for byte either way: tests/test_native_split.py checks it. */

#define _GNU_SOURCE /* memmem */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "json_out.h"

#define MAX_DEPTH 200
#define FALLBACK 0 /* a step's "this line is Python's" */

typedef struct {
    PyObject_HEAD
    /* the de-duplication set: 128-bit digests in two arrays of halves (as split.SeenHashes) */
    uint64_t *lows, *highs;
    Py_ssize_t mask, count;
    int deduplicate;
    /* what the Python code gives: the definition of each step */
    PyObject *loads, *dumps, *rules, *module_memo, *module_in, *own_top, *context_plan, *struct_plan,
        *struct_types, *renamed, *to_string, *to_integer, *to_float, *to_boolean, *routes, *by_course,
        *no_course, *outputs, *buffers;
    Py_ssize_t memo_limit, flush_bytes;
    /* counters the Python code adds to its own */
    Py_ssize_t blank, duplicates, no_course_count, filtered_out, lines;
    Buffer row, scratch, text, pending;
    Py_ssize_t course_at; /* where put_row wrote (or would have written) course_id */
    PyObject *pending_file;
    PyObject *key_context, *key_event, *key_id, *key_time, *key_oid, *key_usage, *key_module, *key_problem_id,
        *key_event_type, *key_page, *key_ident, *key_get, *key_post, *key_query, *key_buffered;
} Splitter;

/* ---- de-duplication ------------------------------------------------------------------------ */

static int seen_grow(Splitter *self);

/* 1: new, 0: seen before, -1: error. The digest is split.line_digest's: Python's hash of the line
   and of the line behind a newline. */
static int seen_add(Splitter *self, const char *line, Py_ssize_t n, char **scratch, Py_ssize_t *scratch_cap) {
    uint64_t low = (uint64_t)_Py_HashBytes(line, n);
    if (*scratch_cap < n + 1) {
        Py_ssize_t cap = (n + 1) * 2;
        char *grown = PyMem_Realloc(*scratch, cap);
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        *scratch = grown;
        *scratch_cap = cap;
    }
    (*scratch)[0] = '\n';
    memcpy(*scratch + 1, line, n);
    uint64_t high = (uint64_t)_Py_HashBytes(*scratch, n + 1);
    if (low == 0 && high == 0)
        low = 1; /* zero marks an empty slot */
    Py_ssize_t slot = (Py_ssize_t)(low & (uint64_t)self->mask);
    while (self->lows[slot] || self->highs[slot]) {
        if (self->lows[slot] == low && self->highs[slot] == high)
            return 0;
        slot = (slot + 1) & self->mask;
    }
    self->lows[slot] = low;
    self->highs[slot] = high;
    self->count++;
    if (self->count * 3 > self->mask * 2 && seen_grow(self) < 0)
        return -1;
    return 1;
}

static int seen_grow(Splitter *self) {
    Py_ssize_t old_size = self->mask + 1, size = old_size * 2;
    uint64_t *lows = PyMem_Calloc(size, sizeof(uint64_t)), *highs = PyMem_Calloc(size, sizeof(uint64_t));
    if (lows == NULL || highs == NULL) {
        PyMem_Free(lows);
        PyMem_Free(highs);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < old_size; i++) {
        if (!self->lows[i] && !self->highs[i])
            continue;
        Py_ssize_t slot = (Py_ssize_t)(self->lows[i] & (uint64_t)(size - 1));
        while (lows[slot] || highs[slot])
            slot = (slot + 1) & (size - 1);
        lows[slot] = self->lows[i];
        highs[slot] = self->highs[i];
    }
    PyMem_Free(self->lows);
    PyMem_Free(self->highs);
    self->lows = lows;
    self->highs = highs;
    self->mask = size - 1;
    return 0;
}

/* ---- small helpers --------------------------------------------------------------------------- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int digits_at(const char *p, int n) {
    for (int i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

/* tracklog.valid_time in ASCII: 1 when surely valid; 0 means "ask Python" (its \d takes any
   Unicode digit and its $ a last newline). */
static int surely_valid_time(PyObject *value) {
    if (value == NULL || !PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value))
        return 0;
    const char *t = (const char *)PyUnicode_DATA(value);
    Py_ssize_t n = PyUnicode_GET_LENGTH(value), i = 19;
    if (n < 19 || !digits_at(t, 4) || t[4] != '-' || !digits_at(t + 5, 2) || t[7] != '-' || !digits_at(t + 8, 2) ||
        (t[10] != 'T' && t[10] != ' ') || !digits_at(t + 11, 2) || t[13] != ':' || !digits_at(t + 14, 2) ||
        t[16] != ':' || !digits_at(t + 17, 2))
        return 0;
    if (i < n && t[i] == '.') {
        Py_ssize_t start = ++i;
        while (i < n && is_digit(t[i]))
            i++;
        if (i == start || i - start > 9)
            return 0;
    }
    if (i == n)
        return 1;
    if (t[i] == 'Z')
        return i + 1 == n;
    if (t[i] == '+' || t[i] == '-') {
        i++;
        if (i + 2 > n || !digits_at(t + i, 2))
            return 0;
        i += 2;
        if (i < n && t[i] == ':')
            i++;
        return i + 2 == n && digits_at(t + i, 2);
    }
    if (t[i] == ' ')
        i++;
    return n - i == 3 && memcmp(t + i, "UTC", 3) == 0;
}

/* A dict's item by key, borrowed; NULL (no error) when missing or the container is not a dict. */
static PyObject *item_of(PyObject *container, PyObject *key) {
    if (container == NULL || !PyDict_CheckExact(container))
        return NULL;
    return PyDict_GetItemWithError(container, key);
}

static int nonempty_str(PyObject *value) {
    return value != NULL && PyUnicode_CheckExact(value) && PyUnicode_GET_LENGTH(value) > 0;
}

/* memo[value], else reader(value) stored there (the memo cleared when over the limit): a new
   reference, NULL on error. As CourseFinder.find and event_course.module_of. */
static PyObject *memoised(PyObject *memo, PyObject *reader, PyObject *value, Py_ssize_t limit) {
    PyObject *found = PyDict_GetItemWithError(memo, value);
    if (found != NULL) {
        Py_INCREF(found);
        return found;
    }
    if (PyErr_Occurred())
        return NULL;
    if (PyDict_GET_SIZE(memo) > limit)
        PyDict_Clear(memo);
    found = PyObject_CallOneArg(reader, value);
    if (found != NULL && PyDict_SetItem(memo, value, found) < 0)
        Py_CLEAR(found);
    return found;
}

/* The course by the rule table: a new reference to a str, Py_None, or Py_NotImplemented for an
   i4x key without a run (resolved once the file is read), then `*i4x` is a new reference to that
   I4x(org, num); NULL on error. */
static PyObject *find_course(Splitter *self, PyObject *record, PyObject **i4x) {
    PyObject *first_i4x = NULL;
    Py_ssize_t n = PyTuple_GET_SIZE(self->rules);
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *rule = PyTuple_GET_ITEM(self->rules, i); /* (outer key, inner key or None, memo, reader) */
        PyObject *value = item_of(record, PyTuple_GET_ITEM(rule, 0));
        PyObject *inner = PyTuple_GET_ITEM(rule, 1);
        if (value != NULL && inner != Py_None)
            value = item_of(value, inner);
        if (PyErr_Occurred())
            return NULL;
        if (!nonempty_str(value))
            continue;
        PyObject *found =
            memoised(PyTuple_GET_ITEM(rule, 2), PyTuple_GET_ITEM(rule, 3), value, self->memo_limit);
        if (found == NULL)
            return NULL;
        if (PyUnicode_CheckExact(found)) {
            Py_XDECREF(first_i4x);
            return found;
        }
        if (found != Py_None && first_i4x == NULL)
            first_i4x = found;
        else
            Py_DECREF(found);
    }
    if (first_i4x != NULL) {
        *i4x = first_i4x;
        Py_RETURN_NOTIMPLEMENTED;
    }
    Py_RETURN_NONE;
}

/* ---- courses.module_id on ASCII text (its regular expressions, spelled out) ----------------- */

static int is_word(unsigned char c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_'; }

/* courses.PART: word characters, `~`, `.`, `:` and `-` */
static int is_part(unsigned char c) { return is_word(c) || c == '~' || c == '.' || c == ':' || c == '-'; }

static Py_ssize_t part_end(const char *t, Py_ssize_t i, Py_ssize_t n) {
    while (i < n && is_part((unsigned char)t[i]))
        i++;
    return i;
}

static int literal_at(const char *t, Py_ssize_t i, Py_ssize_t n, const char *word) {
    Py_ssize_t k = (Py_ssize_t)strlen(word);
    return i + k <= n && memcmp(t + i, word, k) == 0;
}

typedef struct {
    Py_ssize_t start[5], end[5];
    int groups;
} Groups;

/* _BLOCK at `at` (just after `block-v1:`): org+num+run, any `+name@value`, then +type@T+block@B. */
static int block_at(const char *t, Py_ssize_t at, Py_ssize_t n, Groups *g) {
    Py_ssize_t i = at;
    for (int k = 0; k < 3; k++) {
        g->start[k] = i;
        i = g->end[k] = part_end(t, i, n);
        if (i == g->start[k] || (k < 2 && (i >= n || t[i++] != '+')))
            return 0;
    }
    for (;;) {
        if (literal_at(t, i, n, "+type@")) {
            Py_ssize_t d0 = i + 6, d1 = part_end(t, d0, n);
            if (d1 > d0 && literal_at(t, d1, n, "+block@")) {
                Py_ssize_t e0 = d1 + 7, e1 = part_end(t, e0, n);
                if (e1 > e0) {
                    g->start[3] = d0, g->end[3] = d1, g->start[4] = e0, g->end[4] = e1, g->groups = 5;
                    return 1;
                }
            }
        }
        if (i >= n || t[i] != '+')
            return 0;
        Py_ssize_t j = i + 1;
        while (j < n && is_word((unsigned char)t[j]))
            j++;
        if (j == i + 1 || j >= n || t[j] != '@')
            return 0;
        Py_ssize_t k = part_end(t, j + 1, n);
        if (k == j + 1)
            return 0;
        i = k;
    }
}

/* _I4X_BLOCK at `at` (just after `i4x://`): four parts separated by `/`. */
static int i4x_at(const char *t, Py_ssize_t at, Py_ssize_t n, Groups *g) {
    Py_ssize_t i = at;
    for (int k = 0; k < 4; k++) {
        g->start[k] = i;
        i = g->end[k] = part_end(t, i, n);
        if (i == g->start[k] || (k < 3 && (i >= n || t[i++] != '/')))
            return 0;
    }
    g->groups = 4;
    return 1;
}

/* Python's \s on ASCII: also the separators \x1c-\x1f */
static int is_unicode_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* _I4X_DASHED: the whole text `i4x-A-B-C-D` (a last newline allowed, as `$` does). */
static int dashed(const char *t, Py_ssize_t n, Groups *g) {
    if (n > 0 && t[n - 1] == '\n')
        n--;
    if (!literal_at(t, 0, n, "i4x-"))
        return 0;
    Py_ssize_t i = 4;
    for (int k = 0; k < 4; k++) {
        g->start[k] = i;
        while (i < n && t[i] != '-' && !is_unicode_space((unsigned char)t[i]))
            i++;
        g->end[k] = i;
        if (i == g->start[k])
            return 0;
        if (k < 3) {
            if (i >= n || t[i] != '-')
                return 0;
            i++;
        }
    }
    g->groups = 4;
    return i == n;
}

static int search(const char *t, Py_ssize_t n, const char *word, int (*at)(const char *, Py_ssize_t, Py_ssize_t, Groups *),
                  Groups *g) {
    Py_ssize_t k = (Py_ssize_t)strlen(word);
    for (const char *p = t; (p = memmem(p, n - (p - t), word, k)) != NULL; p++)
        if (at(t, (p - t) + k, n, g))
            return 1;
    return 0;
}

/* courses.module_id of an ASCII str: a new reference (str or None); NULL with no error set when
   the text is not ASCII (Python's reader then). */
static PyObject *ascii_module_id(PyObject *value) {
    if (!PyUnicode_IS_ASCII(value))
        return NULL;
    const char *t = (const char *)PyUnicode_DATA(value);
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    Groups g = {{0}, {0}, 0};
    if (!search(t, n, "block-v1:", block_at, &g) && !search(t, n, "i4x://", i4x_at, &g) && !dashed(t, n, &g))
        Py_RETURN_NONE;
    char out[1024];
    Py_ssize_t len = 0;
    for (int k = 0; k < g.groups; k++)
        len += g.end[k] - g.start[k] + (k > 0);
    char *joined = len <= (Py_ssize_t)sizeof out ? out : PyMem_Malloc(len);
    if (joined == NULL)
        return PyErr_NoMemory();
    Py_ssize_t at = 0;
    for (int k = 0; k < g.groups; k++) {
        if (k)
            joined[at++] = '/';
        memcpy(joined + at, t + g.start[k], g.end[k] - g.start[k]);
        at += g.end[k] - g.start[k];
    }
    PyObject *result = PyUnicode_DecodeASCII(joined, len, NULL);
    if (joined != out)
        PyMem_Free(joined);
    return result;
}

/* module_id(text) -> the compiled reading of courses.module_id; for tests (None for non-ASCII
   text, which Python reads). */
PyObject *native_module_id(PyObject *module, PyObject *value) {
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "module_id: a str");
        return NULL;
    }
    PyObject *found = ascii_module_id(value);
    if (found == NULL && !PyErr_Occurred())
        Py_RETURN_NONE;
    return found;
}

/* event_course.module_of: a new reference (a str or None), NULL on error. */
static PyObject *find_module(Splitter *self, PyObject *record, PyObject *payload) {
    PyObject *context = item_of(record, self->key_context);
    PyObject *module = context ? item_of(context, self->key_module) : NULL;
    PyObject *candidates[5] = {
        module ? item_of(module, self->key_usage) : NULL,
        payload && PyDict_GET_SIZE(payload) ? item_of(payload, self->key_ident) : NULL,
        payload && PyDict_GET_SIZE(payload) ? item_of(payload, self->key_problem_id) : NULL,
        item_of(record, self->key_event_type),
        item_of(record, self->key_page),
    };
    if (PyErr_Occurred())
        return NULL;
    for (int i = 0; i < 5; i++) {
        if (!nonempty_str(candidates[i]))
            continue;
        PyObject *found = PyDict_GetItemWithError(self->module_memo, candidates[i]);
        if (found != NULL) {
            Py_INCREF(found);
        } else if (PyErr_Occurred() || (found = ascii_module_id(candidates[i])) == NULL) {
            if (PyErr_Occurred())
                return NULL;
            found = memoised(self->module_memo, self->module_in, candidates[i], self->memo_limit);
            if (found == NULL)
                return NULL;
        } else {
            if (PyDict_GET_SIZE(self->module_memo) > self->memo_limit)
                PyDict_Clear(self->module_memo);
            if (PyDict_SetItem(self->module_memo, candidates[i], found) < 0) {
                Py_DECREF(found);
                return NULL;
            }
        }
        if (PyObject_IsTrue(found) == 1)
            return found;
        Py_DECREF(found);
    }
    Py_RETURN_NONE;
}

/* tracklog.payload_of: a new reference to a dict, or Py_None; NULL on error. */
static PyObject *payload_of(Splitter *self, PyObject *event) {
    if (event != NULL && PyDict_CheckExact(event)) {
        Py_INCREF(event);
        return event;
    }
    if (event != NULL && PyUnicode_CheckExact(event) && PyUnicode_GET_LENGTH(event) > 0 &&
        PyUnicode_READ_CHAR(event, 0) == '{') {
        PyObject *parsed = PyObject_CallOneArg(self->loads, event);
        if (parsed == NULL) {
            PyErr_Clear(); /* not JSON: no payload, as the Python code (only JSONDecodeError is raised) */
            Py_RETURN_NONE;
        }
        if (PyDict_CheckExact(parsed))
            return parsed;
        Py_DECREF(parsed);
    }
    Py_RETURN_NONE;
}

/* ---- writing JSON as orjson.dumps ------------------------------------------------------------ */

static int put_text(Buffer *buffer, const char *text, Py_ssize_t n) {
    if (reserve(buffer, n) < 0)
        return -1;
    put(buffer, text, n);
    return 0;
}

#define PUT_TEXT(buffer, text) put_text(buffer, text, sizeof(text) - 1)

/* A str as a JSON string; 0 (fallback) for one that is not valid UTF-8 (a lone surrogate). */
static int put_str(Buffer *buffer, PyObject *text) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL) {
        PyErr_Clear();
        return FALLBACK;
    }
    if (reserve(buffer, 6 * n + 2) < 0)
        return -1;
    put_string(buffer, utf8, n);
    return 1;
}

/* The bytes of a JSON text (another buffer) as a JSON string: orjson.dumps(x).decode() inside a row. */
static int put_json_as_string(Buffer *buffer, const Buffer *json) {
    if (reserve(buffer, 6 * json->len + 2) < 0)
        return -1;
    put_string(buffer, json->data, json->len);
    return 1;
}

static int put_value(Splitter *self, Buffer *buffer, PyObject *value, int depth);

/* orjson's own text for a value this file does not format the same way (a float with an
   exponent, or not finite; an integer beyond 64 bits makes it raise: Python's line then). */
static int put_by_orjson(Splitter *self, Buffer *buffer, PyObject *value) {
    PyObject *text = PyObject_CallOneArg(self->dumps, value);
    if (text == NULL) {
        PyErr_Clear();
        return FALLBACK;
    }
    int result = put_text(buffer, PyBytes_AS_STRING(text), PyBytes_GET_SIZE(text));
    Py_DECREF(text);
    return result < 0 ? -1 : 1;
}

/* A finite float as Python's repr (str) writes it. */
static int put_repr(Buffer *buffer, PyObject *value) {
    char *text = PyOS_double_to_string(PyFloat_AS_DOUBLE(value), 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return -1;
    int result = put_text(buffer, text, (Py_ssize_t)strlen(text)) < 0 ? -1 : 1;
    PyMem_Free(text);
    return result;
}

static int put_float(Splitter *self, Buffer *buffer, PyObject *value) {
    double number = PyFloat_AS_DOUBLE(value);
    if (!isfinite(number))
        return put_by_orjson(self, buffer, value);
    char *text = PyOS_double_to_string(number, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return -1;
    int result;
    if (strchr(text, 'e') != NULL) /* orjson writes 1e-7 where repr writes 1e-07 */
        result = put_by_orjson(self, buffer, value);
    else
        result = put_text(buffer, text, (Py_ssize_t)strlen(text)) < 0 ? -1 : 1;
    PyMem_Free(text);
    return result;
}

static int put_int(Splitter *self, Buffer *buffer, PyObject *value) {
    int overflow;
    long long number = PyLong_AsLongLongAndOverflow(value, &overflow);
    if (overflow || (number == -1 && PyErr_Occurred())) {
        PyErr_Clear();
        return put_by_orjson(self, buffer, value);
    }
    char text[24];
    int n = snprintf(text, sizeof text, "%lld", number);
    return put_text(buffer, text, n) < 0 ? -1 : 1;
}

static int put_object(Splitter *self, Buffer *buffer, PyObject *value, int depth) {
    if (PUT_TEXT(buffer, "{") < 0)
        return -1;
    Py_ssize_t position = 0;
    PyObject *key, *item;
    int first = 1;
    while (PyDict_Next(value, &position, &key, &item)) {
        if (!PyUnicode_CheckExact(key))
            return FALLBACK;
        if (!first && PUT_TEXT(buffer, ",") < 0)
            return -1;
        first = 0;
        int result = put_str(buffer, key);
        if (result <= 0)
            return result;
        if (PUT_TEXT(buffer, ":") < 0)
            return -1;
        result = put_value(self, buffer, item, depth + 1);
        if (result <= 0)
            return result;
    }
    return PUT_TEXT(buffer, "}") < 0 ? -1 : 1;
}

/* orjson.dumps of a value orjson.loads can give (and of the coercers' results). */
static int put_value(Splitter *self, Buffer *buffer, PyObject *value, int depth) {
    if (depth > MAX_DEPTH)
        return FALLBACK;
    if (PyUnicode_CheckExact(value))
        return put_str(buffer, value);
    if (value == Py_None)
        return PUT_TEXT(buffer, "null") < 0 ? -1 : 1;
    if (value == Py_True)
        return PUT_TEXT(buffer, "true") < 0 ? -1 : 1;
    if (value == Py_False)
        return PUT_TEXT(buffer, "false") < 0 ? -1 : 1;
    if (PyLong_CheckExact(value))
        return put_int(self, buffer, value);
    if (PyFloat_CheckExact(value))
        return put_float(self, buffer, value);
    if (PyDict_CheckExact(value))
        return put_object(self, buffer, value, depth);
    if (PyList_CheckExact(value)) {
        if (PUT_TEXT(buffer, "[") < 0)
            return -1;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(value); i++) {
            if (i && PUT_TEXT(buffer, ",") < 0)
                return -1;
            int result = put_value(self, buffer, PyList_GET_ITEM(value, i), depth + 1);
            if (result <= 0)
                return result;
        }
        return PUT_TEXT(buffer, "]") < 0 ? -1 : 1;
    }
    return FALLBACK;
}

/* `"key":` (a comma first unless it is the object's first member). */
static int put_key(Buffer *buffer, PyObject *key, int *first) {
    if (!*first && PUT_TEXT(buffer, ",") < 0)
        return -1;
    *first = 0;
    int result = put_str(buffer, key);
    if (result <= 0)
        return result;
    return PUT_TEXT(buffer, ":") < 0 ? -1 : 1;
}

/* A value as JSON text, then that text as a JSON string (`event`, `extra`). */
static int put_value_as_string(Splitter *self, Buffer *buffer, PyObject *value) {
    self->scratch.len = 0;
    int result = put_value(self, &self->scratch, value, 0);
    if (result <= 0)
        return result;
    return put_json_as_string(buffer, &self->scratch);
}

/* A coercer's result for an item, new reference: the common exact types without a call (each
   returns its input, or int(bool), float(int), as coerce.py does). */
static PyObject *coerced(Splitter *self, PyObject *rule, PyObject *item) {
    if (rule == self->to_integer && PyLong_CheckExact(item)) {
        int overflow;
        long long number = PyLong_AsLongLongAndOverflow(item, &overflow);
        if (!overflow && !(number == -1 && PyErr_Occurred())) {
            Py_INCREF(item);
            return item;
        }
        PyErr_Clear();
    } else if (rule == self->to_float && PyFloat_CheckExact(item) && isfinite(PyFloat_AS_DOUBLE(item))) {
        Py_INCREF(item);
        return item;
    } else if (rule == self->to_boolean && PyBool_Check(item)) {
        Py_INCREF(item);
        return item;
    }
    return PyObject_CallOneArg(rule, item);
}

/* A string column's value: the str itself, else coerce.to_string's result (None is written as
   null): the text of a bool, an int, a finite float (repr) or, for a dict or list, its JSON. */
static int put_string_column(Splitter *self, Buffer *buffer, PyObject *item) {
    if (PyUnicode_CheckExact(item))
        return put_str(buffer, item);
    if (item == Py_True || item == Py_False)
        return put_text(buffer, item == Py_True ? "\"true\"" : "\"false\"", item == Py_True ? 6 : 7) < 0 ? -1 : 1;
    if (PyLong_CheckExact(item) || PyFloat_CheckExact(item) || PyDict_CheckExact(item) || PyList_CheckExact(item)) {
        if (PyFloat_CheckExact(item) && !isfinite(PyFloat_AS_DOUBLE(item)))
            return PUT_TEXT(buffer, "null") < 0 ? -1 : 1;
        Buffer *text = &self->text;
        text->len = 0;
        int result = PyFloat_CheckExact(item) ? put_repr(text, item) : put_value(self, text, item, 0);
        if (result < 0)
            return -1;
        if (result > 0)
            return put_json_as_string(buffer, text);
    }
    PyObject *text = PyObject_CallOneArg(self->to_string, item);
    if (text == NULL)
        return -1;
    int result = put_value(self, buffer, text, 0);
    Py_DECREF(text);
    return result;
}

/* tracklog.coerce_record of `value` (a dict) by `plan` (Plan.as_tuple()), written as an object
   member `"name":{...}` when it keeps anything: 1 written, 2 nothing kept (nothing written),
   0 fallback, -1 error. Unknown keys go into `unknown` (a dict) when it is given. `keys` iterates
   only those keys, in that order, when given (event_struct's GET, POST and query). */
static int put_record(Splitter *self, Buffer *buffer, PyObject *name, int *first, PyObject *value, PyObject *plan,
                      PyObject *unknown, PyObject *const *keys, int nkeys) {
    PyObject *strings = PyTuple_GET_ITEM(plan, 0), *scalars = PyTuple_GET_ITEM(plan, 1),
             *records = PyTuple_GET_ITEM(plan, 2), *names = PyTuple_GET_ITEM(plan, 3);
    Py_ssize_t start = buffer->len;
    int outer_first = *first, inner_first = 1, result;
    if ((result = put_key(buffer, name, first)) <= 0 || PUT_TEXT(buffer, "{") < 0)
        return result < 0 ? -1 : result;
    Py_ssize_t position = 0;
    int index = 0;
    for (;;) {
        PyObject *key, *item;
        if (keys != NULL) {
            if (index == nkeys)
                break;
            key = keys[index++];
            item = PyDict_GetItemWithError(value, key);
            if (item == NULL) {
                if (PyErr_Occurred())
                    return -1;
                continue;
            }
        } else if (!PyDict_Next(value, &position, &key, &item)) {
            break;
        }
        int known = PySet_Contains(strings, key);
        if (known < 0)
            return -1;
        if (!known && !(known = PySet_Contains(names, key))) {
            PyObject *renamed = PyDict_GetItemWithError(self->renamed, key);
            if (renamed == NULL || PySet_Contains(names, renamed) != 1) {
                if (PyErr_Occurred())
                    return -1;
                if (unknown != NULL && PyDict_SetItem(unknown, key, item) < 0)
                    return -1;
                continue;
            }
            if (PyDict_Contains(value, renamed))
                return FALLBACK; /* both spellings: the dict's last-wins is Python's to apply */
            key = renamed;
            if ((known = PySet_Contains(strings, key)) < 0)
                return -1;
        } else if (known < 0) {
            return -1;
        } else {
            known = PySet_Contains(strings, key);
        }
        if (known == 1) { /* a string column */
            if (item == Py_None)
                continue;
            if ((result = put_key(buffer, key, &inner_first)) <= 0 ||
                (result = put_string_column(self, buffer, item)) <= 0)
                return result;
            continue;
        }
        if (item == Py_None)
            continue;
        PyObject *rule = PyDict_GetItemWithError(scalars, key);
        if (rule != NULL) {
            PyObject *typed = coerced(self, rule, item);
            if (typed == NULL)
                return -1;
            if (typed != Py_None) {
                result = put_key(buffer, key, &inner_first);
                if (result > 0)
                    result = put_value(self, buffer, typed, 1);
                if (result <= 0) {
                    Py_DECREF(typed);
                    return result;
                }
            }
            Py_DECREF(typed);
            continue;
        }
        if (PyErr_Occurred())
            return -1;
        if (!PyDict_CheckExact(item))
            continue;
        PyObject *inner = PyDict_GetItemWithError(records, key);
        if (inner == NULL)
            return PyErr_Occurred() ? -1 : FALLBACK;
        result = put_record(self, buffer, key, &inner_first, item, inner, NULL, NULL, 0);
        if (result <= 0)
            return result;
    }
    if (inner_first) { /* nothing kept: the member is not written */
        buffer->len = start;
        *first = outer_first;
        return 2;
    }
    return PUT_TEXT(buffer, "}") < 0 ? -1 : 1;
}

static int set_extra(PyObject **extra, PyObject *key, PyObject *value) {
    if (*extra == NULL && (*extra = PyDict_New()) == NULL)
        return -1;
    return PyDict_SetItem(*extra, key, value);
}

/* tracklog.event_struct, written as the member `event_struct` when it keeps anything. */
static int put_event_struct(Splitter *self, Buffer *buffer, int *first, PyObject *record, PyObject *payload) {
    static PyObject *name = NULL;
    if (name == NULL && (name = PyUnicode_InternFromString("event_struct")) == NULL)
        return -1;
    PyObject *event_type = item_of(record, self->key_event_type);
    if (event_type == NULL && PyErr_Occurred())
        return -1;
    int typed = 0;
    if (event_type != NULL) {
        typed = PySet_Contains(self->struct_types, event_type);
        if (typed < 0) {
            PyErr_Clear(); /* an unhashable event_type is in no set */
            typed = 0;
        }
        if (!typed && PyUnicode_CheckExact(event_type)) {
            static PyObject *problem = NULL;
            if (problem == NULL && (problem = PyUnicode_InternFromString("problem_")) == NULL)
                return -1;
            typed = PyUnicode_Contains(event_type, problem);
            if (typed < 0)
                return -1;
        }
    }
    if (typed)
        return put_record(self, buffer, name, first, payload, self->struct_plan, NULL, NULL, 0);
    PyObject *picked[3] = {self->key_get, self->key_post, self->key_query};
    return put_record(self, buffer, name, first, payload, self->struct_plan, NULL, picked, 3);
}

/* tracklog.normalise, written as one JSON line into self->row: 1, 0 fallback, -1 error. */
static int put_row(Splitter *self, PyObject *record, PyObject *course, PyObject *module, PyObject *payload) {
    Buffer *row = &self->row;
    PyObject *extra = NULL;
    int first = 1, result = 1;
    row->len = 0;
    if (PUT_TEXT(row, "{") < 0 ||
        (result = put_key(row, self->key_time, &first)) <= 0 ||
        (result = put_str(row, PyDict_GetItem(record, self->key_time))) <= 0)
        goto done;
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (PyDict_Next(record, &position, &key, &value)) {
        int own = PySet_Contains(self->own_top, key);
        if (own < 0) {
            result = -1;
            goto done;
        }
        if (own) {
            if (value != Py_None &&
                ((result = put_key(row, key, &first)) <= 0 || (result = put_string_column(self, row, value)) <= 0))
                goto done;
        } else if (PyUnicode_Compare(key, self->key_context) == 0) {
            if (PyDict_CheckExact(value)) {
                PyObject *unknown = PyDict_New();
                if (unknown == NULL) {
                    result = -1;
                    goto done;
                }
                result = put_record(self, row, key, &first, value, self->context_plan, unknown, NULL, 0);
                if (result > 0 && PyDict_GET_SIZE(unknown) && set_extra(&extra, key, unknown) < 0)
                    result = -1;
                Py_DECREF(unknown);
                if (result <= 0)
                    goto done;
            } else if (value != Py_None && set_extra(&extra, key, value) < 0) {
                result = -1;
                goto done;
            }
        } else if (PyUnicode_Compare(key, self->key_event) == 0) {
            if (value == Py_None)
                continue;
            if ((result = put_key(row, key, &first)) <= 0)
                goto done;
            result = PyUnicode_CheckExact(value) ? put_str(row, value) : put_value_as_string(self, row, value);
            if (result <= 0)
                goto done;
            if (payload != Py_None && (result = put_event_struct(self, row, &first, record, payload)) <= 0)
                goto done;
        } else if (PyUnicode_Compare(key, self->key_id) == 0) {
            PyObject *oid = item_of(value, self->key_oid);
            if (oid != NULL && PyUnicode_CheckExact(oid)) {
                if ((result = PUT_TEXT(row, ",\"mongoid\":") < 0 ? -1 : 1) <= 0 || (result = put_str(row, oid)) <= 0)
                    goto done;
            } else if (set_extra(&extra, key, value) < 0) {
                result = -1;
                goto done;
            }
        } else if (PyUnicode_Compare(key, self->key_time) != 0 && set_extra(&extra, key, value) < 0) {
            result = -1;
            goto done;
        }
        if (PyErr_Occurred()) {
            result = -1;
            goto done;
        }
    }
    self->course_at = row->len;
    if (course != Py_None &&
        ((result = PUT_TEXT(row, ",\"course_id\":") < 0 ? -1 : 1) <= 0 || (result = put_str(row, course)) <= 0))
        goto done;
    if (module != Py_None &&
        ((result = PUT_TEXT(row, ",\"module_id\":") < 0 ? -1 : 1) <= 0 || (result = put_str(row, module)) <= 0))
        goto done;
    if (extra != NULL &&
        ((result = PUT_TEXT(row, ",\"extra\":") < 0 ? -1 : 1) <= 0 || (result = put_value_as_string(self, row, extra)) <= 0))
        goto done;
    result = PUT_TEXT(row, "}\n") < 0 ? -1 : 1;
done:
    Py_XDECREF(extra);
    return result;
}

/* ---- one line ---------------------------------------------------------------------------------- */

/* Append the row to its file's buffer, flushing the buffers as BufferedOutputs.add does. */
static int add_row(Splitter *self, PyObject *path, Py_ssize_t *buffered) {
    PyObject *lines = PyDict_GetItemWithError(self->buffers, path);
    if (lines == NULL) {
        if (PyErr_Occurred() || (lines = PyList_New(0)) == NULL)
            return -1;
        int failed = PyDict_SetItem(self->buffers, path, lines);
        Py_DECREF(lines);
        if (failed < 0)
            return -1;
    }
    PyObject *line = PyBytes_FromStringAndSize(self->row.data, self->row.len);
    if (line == NULL)
        return -1;
    int failed = PyList_Append(lines, line);
    Py_DECREF(line);
    if (failed < 0)
        return -1;
    *buffered += self->row.len;
    if (*buffered >= self->flush_bytes) {
        PyObject *count = PyLong_FromSsize_t(*buffered);
        if (count == NULL || PyObject_SetAttr(self->outputs, self->key_buffered, count) < 0) {
            Py_XDECREF(count);
            return -1;
        }
        Py_DECREF(count);
        PyObject *flushed = PyObject_CallMethod(self->outputs, "flush", NULL);
        if (flushed == NULL)
            return -1;
        Py_DECREF(flushed);
        *buffered = 0;
    }
    return 1;
}

static int count_course(Splitter *self, PyObject *course) {
    PyObject *count = PyDict_GetItemWithError(self->by_course, course);
    if (count == NULL && PyErr_Occurred())
        return -1;
    PyObject *next = PyLong_FromSsize_t(count ? PyLong_AsSsize_t(count) + 1 : 1);
    if (next == NULL)
        return -1;
    int failed = PyDict_SetItem(self->by_course, course, next);
    Py_DECREF(next);
    return failed;
}

/* A row of an event whose i4x key names no run, to the split's pending file as
   `[org, num, head, tail]`: the row is head + the course_id member (once the run is known) + tail. */
static int put_pending(Splitter *self, PyObject *i4x) {
    Buffer *out = &self->pending;
    Buffer head = {self->row.data, self->course_at, self->course_at};
    Buffer tail = {self->row.data + self->course_at, self->row.len - 1 - self->course_at, 0}; /* without its newline */
    int result = 1;
    out->len = 0;
    if (!PyTuple_Check(i4x) || PyTuple_GET_SIZE(i4x) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(i4x, 0)) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(i4x, 1)))
        return FALLBACK;
    if (PUT_TEXT(out, "[") < 0 || (result = put_str(out, PyTuple_GET_ITEM(i4x, 0))) <= 0 || PUT_TEXT(out, ",") < 0 ||
        (result = put_str(out, PyTuple_GET_ITEM(i4x, 1))) <= 0 || PUT_TEXT(out, ",") < 0 ||
        put_json_as_string(out, &head) < 0 || PUT_TEXT(out, ",") < 0 || put_json_as_string(out, &tail) < 0 ||
        PUT_TEXT(out, "]\n") < 0)
        return result <= 0 && !PyErr_Occurred() ? FALLBACK : -1;
    PyObject *written = PyObject_CallMethod(self->pending_file, "write", "y#", out->data, out->len);
    if (written == NULL)
        return -1;
    Py_DECREF(written);
    return 1;
}

/* A parsed line past the de-duplication: 1 done, 0 Python's, -1 error. */
static int split_record(Splitter *self, PyObject *record, Py_ssize_t *buffered) {
    if (!PyDict_CheckExact(record) || !surely_valid_time(PyDict_GetItem(record, self->key_time)))
        return FALLBACK;
    PyObject *i4x = NULL, *course = find_course(self, record, &i4x), *path = NULL, *payload = NULL, *module = NULL;
    if (course == NULL)
        return -1;
    int result = FALLBACK;
    if (course == Py_NotImplemented) {
        if (self->pending_file == Py_None)
            goto done;
    } else if (course == Py_None) {
        path = self->no_course;
    } else {
        if (PyUnicode_GET_LENGTH(course) == 0)
            goto done;
        path = PyDict_GetItemWithError(self->routes, course); /* the course's file; None: filtered out */
        if (path == NULL) {
            result = PyErr_Occurred() ? -1 : FALLBACK; /* met for the first time: Python registers it */
            goto done;
        }
        if (path == Py_None) {
            self->filtered_out++;
            result = 1;
            goto done;
        }
    }
    PyObject *event = PyDict_GetItemWithError(record, self->key_event);
    if (event == NULL && PyErr_Occurred()) {
        result = -1;
        goto done;
    }
    if ((payload = payload_of(self, event)) == NULL ||
        (module = find_module(self, record, payload == Py_None ? NULL : payload)) == NULL) {
        result = -1;
        goto done;
    }
    result = put_row(self, record, course == Py_NotImplemented ? Py_None : course, module, payload);
    if (result <= 0)
        goto done;
    if (course == Py_NotImplemented) {
        result = put_pending(self, i4x);
    } else {
        if (course == Py_None)
            self->no_course_count++;
        else if (count_course(self, course) < 0) {
            result = -1;
            goto done;
        }
        result = add_row(self, path, buffered);
    }
done:
    Py_XDECREF(payload);
    Py_XDECREF(module);
    Py_XDECREF(i4x);
    Py_DECREF(course);
    return result;
}

/* run(batch, start) -> the index of the first line from `start` that is Python's (its blank and
   duplicate checks done), or len(batch). */
static PyObject *Splitter_run(Splitter *self, PyObject *args) {
    PyObject *batch;
    Py_ssize_t index;
    if (!PyArg_ParseTuple(args, "O!n:run", &PyList_Type, &batch, &index))
        return NULL;
    PyObject *held = PyObject_GetAttr(self->outputs, self->key_buffered);
    if (held == NULL)
        return NULL;
    Py_ssize_t buffered = PyLong_AsSsize_t(held);
    Py_DECREF(held);
    if (buffered == -1 && PyErr_Occurred())
        return NULL;
    char *scratch = NULL;
    Py_ssize_t scratch_cap = 0, n = PyList_GET_SIZE(batch);
    int failed = 0;
    for (; index < n; index++) {
        PyObject *raw = PyList_GET_ITEM(batch, index);
        if (!PyBytes_CheckExact(raw)) {
            PyErr_SetString(PyExc_TypeError, "run: the batch holds lines as bytes");
            failed = 1;
            break;
        }
        const char *text = PyBytes_AS_STRING(raw);
        Py_ssize_t start = 0, stop = PyBytes_GET_SIZE(raw);
        while (start < stop && is_space(text[start]))
            start++;
        while (stop > start && is_space(text[stop - 1]))
            stop--;
        if (start == stop) {
            self->blank++;
            continue;
        }
        if (self->deduplicate) {
            int added = seen_add(self, text + start, stop - start, &scratch, &scratch_cap);
            if (added < 0) {
                failed = 1;
                break;
            }
            if (added == 0) {
                self->duplicates++;
                continue;
            }
        }
        PyObject *line = start == 0 && stop == PyBytes_GET_SIZE(raw) ? (Py_INCREF(raw), raw)
                                                                       : PyBytes_FromStringAndSize(text + start, stop - start);
        if (line == NULL) {
            failed = 1;
            break;
        }
        PyObject *record = PyObject_CallOneArg(self->loads, line);
        Py_DECREF(line);
        if (record == NULL) {
            PyErr_Clear(); /* not JSON: Python recovers or rejects it */
            break;
        }
        int result = split_record(self, record, &buffered);
        Py_DECREF(record);
        if (result < 0) {
            /* a coercer or reader raising, or a write failing: Python's line says which */
            if (PyErr_ExceptionMatches(PyExc_OSError) || PyErr_ExceptionMatches(PyExc_MemoryError)) {
                failed = 1;
                break;
            }
            PyErr_Clear();
            break;
        }
        if (result == FALLBACK)
            break;
        self->lines++;
    }
    PyMem_Free(scratch);
    PyObject *count = PyLong_FromSsize_t(buffered);
    if (count == NULL || PyObject_SetAttr(self->outputs, self->key_buffered, count) < 0)
        failed = 1;
    Py_XDECREF(count);
    return failed ? NULL : PyLong_FromSsize_t(index);
}

/* ---- the type ------------------------------------------------------------------------------------ */

static int Splitter_init(Splitter *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"loads", "dumps", "rules", "module_memo", "module_in", "own_top", "context_plan",
                            "struct_plan", "struct_types", "renamed", "to_string", "to_integer", "to_float",
                            "to_boolean", "routes", "by_course", "no_course", "outputs", "memo_limit",
                            "flush_bytes", "deduplicate", "pending", NULL};
    PyObject *objects[19];
    objects[18] = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOO!O!OO!O!O!O!O!OOOOO!O!UOnnp|O:Splitter", names, &objects[0],
                                     &objects[1], &PyTuple_Type, &objects[2], &PyDict_Type, &objects[3], &objects[4],
                                     &PyFrozenSet_Type, &objects[5], &PyTuple_Type, &objects[6], &PyTuple_Type,
                                     &objects[7], &PyFrozenSet_Type, &objects[8], &PyDict_Type, &objects[9],
                                     &objects[10], &objects[11], &objects[12], &objects[13], &PyDict_Type,
                                     &objects[14], &PyDict_Type, &objects[15], &objects[16], &objects[17],
                                     &self->memo_limit, &self->flush_bytes, &self->deduplicate, &objects[18]))
        return -1;
    PyObject **fields[19] = {&self->loads, &self->dumps, &self->rules, &self->module_memo, &self->module_in,
                             &self->own_top, &self->context_plan, &self->struct_plan, &self->struct_types,
                             &self->renamed, &self->to_string, &self->to_integer, &self->to_float,
                             &self->to_boolean, &self->routes, &self->by_course, &self->no_course, &self->outputs,
                             &self->pending_file};
    for (int i = 0; i < 19; i++) {
        Py_INCREF(objects[i]);
        Py_XSETREF(*fields[i], objects[i]);
    }
    Py_XSETREF(self->buffers, PyObject_GetAttrString(self->outputs, "buffers"));
    if (self->buffers == NULL || !PyDict_CheckExact(self->buffers)) {
        PyErr_SetString(PyExc_TypeError, "Splitter: outputs.buffers must be a dict");
        return -1;
    }
    struct {
        PyObject **slot;
        const char *text;
    } keys[] = {{&self->key_context, "context"}, {&self->key_event, "event"},       {&self->key_id, "_id"},
                {&self->key_time, "time"},       {&self->key_oid, "$oid"},          {&self->key_usage, "usage_key"},
                {&self->key_module, "module"},   {&self->key_problem_id, "problem_id"},
                {&self->key_event_type, "event_type"}, {&self->key_page, "page"},   {&self->key_ident, "id"},
                {&self->key_get, "GET"},         {&self->key_post, "POST"},         {&self->key_query, "query"},
                {&self->key_buffered, "buffered"}};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (*keys[i].slot == NULL && (*keys[i].slot = PyUnicode_InternFromString(keys[i].text)) == NULL)
            return -1;
    if (self->lows == NULL) {
        self->mask = (1 << 16) - 1;
        self->lows = PyMem_Calloc(self->mask + 1, sizeof(uint64_t));
        self->highs = PyMem_Calloc(self->mask + 1, sizeof(uint64_t));
        if (self->lows == NULL || self->highs == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static void Splitter_dealloc(Splitter *self) {
    PyObject **objects[] = {&self->loads, &self->dumps, &self->rules, &self->module_memo, &self->module_in,
                            &self->own_top, &self->context_plan, &self->struct_plan, &self->struct_types,
                            &self->renamed, &self->to_string, &self->to_integer, &self->to_float,
                            &self->to_boolean, &self->routes, &self->by_course, &self->no_course, &self->outputs,
                            &self->pending_file, &self->buffers, &self->key_context, &self->key_event, &self->key_id, &self->key_time,
                            &self->key_oid, &self->key_usage, &self->key_module, &self->key_problem_id,
                            &self->key_event_type, &self->key_page, &self->key_ident, &self->key_get,
                            &self->key_post, &self->key_query, &self->key_buffered};
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++)
        Py_CLEAR(*objects[i]);
    PyMem_Free(self->lows);
    PyMem_Free(self->highs);
    PyMem_Free(self->row.data);
    PyMem_Free(self->scratch.data);
    PyMem_Free(self->text.data);
    PyMem_Free(self->pending.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* seen(line) -> True when the (stripped) line is new: the Python code's lines share the set. */
static PyObject *Splitter_seen(Splitter *self, PyObject *line) {
    if (!PyBytes_Check(line)) {
        PyErr_SetString(PyExc_TypeError, "seen: a line as bytes");
        return NULL;
    }
    char *scratch = NULL;
    Py_ssize_t cap = 0;
    int added = seen_add(self, PyBytes_AS_STRING(line), PyBytes_GET_SIZE(line), &scratch, &cap);
    PyMem_Free(scratch);
    if (added < 0)
        return NULL;
    return PyBool_FromLong(added);
}

static PyObject *Splitter_counts(Splitter *self, PyObject *unused) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "blank", self->blank, "duplicates", self->duplicates, "no_course",
                         self->no_course_count, "filtered_out", self->filtered_out, "lines", self->lines);
}

static PyMethodDef SPLITTER_METHODS[] = {
    {"run", (PyCFunction)Splitter_run, METH_VARARGS,
     "run(batch, start) -> index of the first line from start that is the Python code's (already checked for"
     " blank and duplicate), or len(batch)"},
    {"seen", (PyCFunction)Splitter_seen, METH_O, "seen(line) -> True when the line was not seen before"},
    {"counts", (PyCFunction)Splitter_counts, METH_NOARGS,
     "counts() -> blank, duplicates, no_course, filtered_out and lines taken here"},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject SplitterType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "edxflow_native.Splitter",
    .tp_basicsize = sizeof(Splitter),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "The tracking-log split's per-line work for the common lines (see scripts/edxflow/logs/split.py).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Splitter_init,
    .tp_dealloc = (destructor)Splitter_dealloc,
    .tp_methods = SPLITTER_METHODS,
};

int add_splitter(PyObject *module) {
    if (PyType_Ready(&SplitterType) < 0)
        return -1;
    Py_INCREF(&SplitterType);
    if (PyModule_AddObject(module, "Splitter", (PyObject *)&SplitterType) < 0) {
        Py_DECREF(&SplitterType);
        return -1;
    }
    return 0;
}
