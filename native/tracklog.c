/* The tracking-log split's per-line work in C: strip, de-duplicate, read the JSON (json_spans.h,
   no Python objects), check the time, find the course (the rule table of event_course.py, through
   the Python readers' memos), find the block, and write the `tracking_log` row
   (tracklog.normalise) as orjson.dumps would, appended to the split's per-file buffers.

   scripts/edxflow/logs/ is the definition of every output. This is a fast path for the lines
   whose every step is in its usual form; any other line (not JSON as this reader takes it, not an
   object, an unusual time, a course met for the first time, a value whose coercion is not written
   here, a float orjson writes with an exponent, ...) is handed back whole to the Python code.
   The output is the same byte for byte either way: tests/test_native_split.py checks it. */

#define _GNU_SOURCE /* memmem */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "json_out.h"
#include "json_spans.h"

#define FALLBACK 0 /* a step's "this line is Python's" */

/* tracklog.Plan in C: each field's name and how it is coerced */
enum { K_STRING, K_INTEGER, K_FLOAT, K_BOOLEAN, K_RECORD };

typedef struct Plan Plan;
typedef struct {
    char *name;
    Py_ssize_t len;
    int kind;
    Plan *sub;
} Field;
struct Plan {
    int n;
    Field *fields;
};

typedef struct {
    char *text;
    Py_ssize_t len;
} Name;

/* What a reader gave for a text, by the text's bytes: the Python memo's answers without making a
   str and hashing it for each event. Emptied, as the memo, beyond its limit. */
typedef struct {
    uint64_t hash;
    char *key;
    Py_ssize_t len;
    PyObject *value;
} Entry;

typedef struct {
    Entry *entries;
    Py_ssize_t mask, count;
} Cache;

typedef struct {
    uint64_t low, high;
} Digest;

typedef struct {
    Name outer, inner; /* inner.text NULL: a top-level field */
    PyObject *memo, *reader;
    int kind;     /* READ_ID, READ_URL: read here (ASCII text without `%`); else by `reader` */
    Cache *cache; /* shared by the rules of one reader */
} Rule;

typedef struct {
    PyObject_HEAD
    /* the de-duplication set: 128-bit digests, open addressing (as split.SeenHashes) */
    Digest *seen;
    Py_ssize_t mask, count;
    int deduplicate;
    /* the Python definitions */
    Rule *rules;
    int nrules;
    Plan *context_plan, *struct_plan;
    Cache caches[8]; /* one per reader, the last for the blocks */
    int ncaches;
    Name *own_top, *struct_types, *renamed; /* renamed: pairs (from, to) */
    int nown_top, nstruct_types, nrenamed;
    PyObject *module_memo, *module_in, *routes, *by_course, *no_course, *outputs, *buffers, *pending_file,
        *key_buffered;
    PyObject *i4x_type;
    Py_ssize_t memo_limit, flush_bytes;
    /* counters the Python code adds to its own */
    Py_ssize_t blank, duplicates, no_course_count, filtered_out, lines;
    /* per line: the spans of the line and of a browser event's payload, and the buffers */
    Spans line, payload;
    Buffer row, extra, unknown, scratch, decoded, payload_text, pending, module;
    Py_ssize_t course_at; /* where the row has (or would have) its course_id */
    /* the line's top-level members looked up most, found in one pass (-1: absent) */
    int top_time, top_context, top_event, top_event_type, top_page;
} Splitter;

/* ---- de-duplication ------------------------------------------------------------------------ */

/* The keys of digest(): drawn from Python's hash secret, random in each process (unless
   PYTHONHASHSEED fixes it), so no line can be written to share another's digest. */
static uint64_t KEYS[6];

static void draw_keys(void) {
    for (int i = 0; i < 6; i++) {
        char name[] = "edxflow line digest key ?";
        name[sizeof(name) - 2] = (char)('0' + i);
        KEYS[i] = (uint64_t)_Py_HashBytes(name, sizeof(name) - 1) | 1;
    }
}

/* The high and low halves of the 128-bit product, folded into one. */
static inline uint64_t fold(uint64_t a, uint64_t b) {
    __uint128_t product = (__uint128_t)a * b;
    return (uint64_t)product ^ (uint64_t)(product >> 64);
}

/* A keyed 128-bit digest of the text: two lanes of multiply-and-fold over its 16-byte blocks, each
   reading every byte with keys of its own (a third of the cost of SipHash and FNV-1a together,
   which the two halves were). */
static Digest digest(const char *text, Py_ssize_t n) {
    uint64_t a = KEYS[0] ^ (uint64_t)n, b = KEYS[1] ^ (uint64_t)n, x, y;
    Py_ssize_t i = 0;
    for (; i + 16 <= n; i += 16) {
        memcpy(&x, text + i, 8);
        memcpy(&y, text + i + 8, 8);
        a = fold(x ^ KEYS[2], y ^ a);
        b = fold(y ^ KEYS[3], x ^ b);
    }
    char tail[16] = {0};
    memcpy(tail, text + i, n - i);
    memcpy(&x, tail, 8);
    memcpy(&y, tail + 8, 8);
    a = fold(x ^ KEYS[2], y ^ a);
    b = fold(y ^ KEYS[3], x ^ b);
    return (Digest){fold(a ^ KEYS[4], b), fold(b ^ KEYS[5], a)};
}

static int seen_grow(Splitter *self);

/* 1: new, 0: seen before, -1: error. Two lines are taken as one when their 128-bit digests are
   equal: with 64 bits, two of a day's millions of lines could share one and an event be lost. */
static int seen_add(Splitter *self, const char *line, Py_ssize_t n) {
    Digest d = digest(line, n);
    if (d.low == 0 && d.high == 0)
        d.low = 1; /* zero marks an empty slot */
    Py_ssize_t slot = (Py_ssize_t)(d.low & (uint64_t)self->mask);
    for (Digest *at = &self->seen[slot]; at->low || at->high; at = &self->seen[slot]) {
        if (at->low == d.low && at->high == d.high)
            return 0;
        slot = (slot + 1) & self->mask;
    }
    self->seen[slot] = d;
    self->count++;
    if (self->count * 3 > self->mask * 2 && seen_grow(self) < 0)
        return -1;
    return 1;
}

static int seen_grow(Splitter *self) {
    Py_ssize_t old_size = self->mask + 1, size = old_size * 2;
    Digest *seen = PyMem_Calloc(size, sizeof(Digest));
    if (seen == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < old_size; i++) {
        Digest d = self->seen[i];
        if (!d.low && !d.high)
            continue;
        Py_ssize_t slot = (Py_ssize_t)(d.low & (uint64_t)(size - 1));
        while (seen[slot].low || seen[slot].high)
            slot = (slot + 1) & (size - 1);
        seen[slot] = d;
    }
    PyMem_Free(self->seen);
    self->seen = seen;
    self->mask = size - 1;
    return 0;
}

/* ---- small helpers ------------------------------------------------------------------------- */

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

static int is_digit(char c) { return c >= '0' && c <= '9'; }

static int digits_at(const char *p, int n) {
    for (int i = 0; i < n; i++)
        if (!is_digit(p[i]))
            return 0;
    return 1;
}

/* tracklog.valid_time on ASCII text: 1 when surely valid; 0 means "ask Python" (its \d takes any
   Unicode digit and its $ a last newline). */
static int surely_valid_time(const char *t, Py_ssize_t n) {
    Py_ssize_t i = 19;
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

static int put_text(Buffer *buffer, const char *text, Py_ssize_t n) {
    if (reserve(buffer, n) < 0)
        return -1;
    put(buffer, text, n);
    return 0;
}

/* a string literal only (its size is its length + 1) */
#define PUT_TEXT(buffer, text) put_text(buffer, "" text, sizeof(text) - 1)

static void put_utf8(char **out, unsigned int code) {
    char *o = *out;
    if (code < 0x80) {
        *o++ = (char)code;
    } else if (code < 0x800) {
        *o++ = (char)(0xC0 | code >> 6);
        *o++ = (char)(0x80 | (code & 0x3F));
    } else if (code < 0x10000) {
        *o++ = (char)(0xE0 | code >> 12);
        *o++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (char)(0x80 | (code & 0x3F));
    } else {
        *o++ = (char)(0xF0 | code >> 18);
        *o++ = (char)(0x80 | ((code >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((code >> 6) & 0x3F));
        *o++ = (char)(0x80 | (code & 0x3F));
    }
    *out = o;
}

/* A string node's text, its escapes undone (the reader checked them): into `into` (cleared) when
   it has any, else in place. */
static int text_of(const Node *node, Buffer *into, const char **text, Py_ssize_t *n) {
    if (!node->escaped) {
        *text = node->start;
        *n = node->end - node->start;
        return 0;
    }
    into->len = 0;
    if (reserve(into, node->end - node->start) < 0)
        return -1;
    const char *p = node->start, *end = node->end;
    char *out = into->data;
    while (p < end) {
        if (*p != '\\') {
            *out++ = *p++;
            continue;
        }
        char e = p[1];
        p += 2;
        switch (e) {
        case 'b': *out++ = '\b'; break;
        case 'f': *out++ = '\f'; break;
        case 'n': *out++ = '\n'; break;
        case 'r': *out++ = '\r'; break;
        case 't': *out++ = '\t'; break;
        case 'u': {
            unsigned int code = (unsigned int)j_hex4(p);
            p += 4;
            if (code >= 0xD800 && code <= 0xDBFF) {
                code = 0x10000 + ((code - 0xD800) << 10) + ((unsigned int)j_hex4(p + 2) - 0xDC00);
                p += 6;
            }
            put_utf8(&out, code);
            break;
        }
        default: *out++ = e; /* " \ / */
        }
    }
    into->len = out - into->data;
    *text = into->data;
    *n = into->len;
    return 0;
}

static int name_is(const Node *key, const Name *name) {
    return key->end - key->start == name->len && memcmp(key->start, name->text, name->len) == 0;
}

static int in_names(const char *text, Py_ssize_t n, const Name *names, int count) {
    for (int i = 0; i < count; i++)
        if (names[i].len == n && memcmp(names[i].text, text, n) == 0)
            return 1;
    return 0;
}

static const Field *field_of(const Plan *plan, const Node *key) {
    Py_ssize_t n = key->end - key->start;
    for (int i = 0; i < plan->n; i++)
        if (plan->fields[i].len == n && memcmp(plan->fields[i].name, key->start, n) == 0)
            return &plan->fields[i];
    return NULL;
}

static const Field *field_named(const Plan *plan, const Name *name) {
    for (int i = 0; i < plan->n; i++)
        if (plan->fields[i].len == name->len && memcmp(plan->fields[i].name, name->text, name->len) == 0)
            return &plan->fields[i];
    return NULL;
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

static void cache_clear(Cache *cache) {
    for (Py_ssize_t i = 0; cache->entries && i <= cache->mask; i++) {
        if (cache->entries[i].key != NULL) {
            PyMem_Free(cache->entries[i].key);
            Py_DECREF(cache->entries[i].value);
        }
    }
    PyMem_Free(cache->entries);
    cache->entries = NULL;
    cache->mask = cache->count = 0;
}

/* The cached answer for a text (borrowed), or NULL. */
static PyObject *cache_get(const Cache *cache, const char *text, Py_ssize_t n, uint64_t hash) {
    if (cache->entries == NULL)
        return NULL;
    for (Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)cache->mask);; i = (i + 1) & cache->mask) {
        const Entry *e = &cache->entries[i];
        if (e->key == NULL)
            return NULL;
        if (e->hash == hash && e->len == n && memcmp(e->key, text, n) == 0)
            return e->value;
    }
}

/* Slots for the entries, twice as many at least: small while few texts recur, so that the table
   stays in the processor's cache (a table sized for the limit at once is megabytes, a miss a look). */
static int cache_resize(Cache *cache, Py_ssize_t size) {
    Entry *old = cache->entries, *entries = PyMem_Calloc(size, sizeof(Entry));
    if (entries == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t j = 0; old && j <= cache->mask; j++) {
        if (old[j].key == NULL)
            continue;
        Py_ssize_t i = (Py_ssize_t)(old[j].hash & (uint64_t)(size - 1));
        while (entries[i].key != NULL)
            i = (i + 1) & (size - 1);
        entries[i] = old[j];
    }
    PyMem_Free(old);
    cache->entries = entries;
    cache->mask = size - 1;
    return 0;
}

static int cache_put(Cache *cache, const char *text, Py_ssize_t n, uint64_t hash, PyObject *value, Py_ssize_t limit) {
    if (cache->count > limit)
        cache_clear(cache);
    Py_ssize_t size = cache->entries ? cache->mask + 1 : 0;
    if ((cache->count + 1) * 2 > size && cache_resize(cache, size ? 2 * size : 256) < 0)
        return -1;
    char *key = PyMem_Malloc(n ? n : 1);
    if (key == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(key, text, n);
    Py_ssize_t i = (Py_ssize_t)(hash & (uint64_t)cache->mask);
    while (cache->entries[i].key != NULL)
        i = (i + 1) & cache->mask;
    cache->entries[i] = (Entry){hash, key, n, Py_NewRef(value)};
    cache->count++;
    return 0;
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

/* The parts courses.module_id joins, in ASCII text: 1 when it has them (in *g), else 0. */
static int module_groups(const char *t, Py_ssize_t n, Groups *g) {
    return search(t, n, "block-v1:", block_at, g) || search(t, n, "i4x://", i4x_at, g) || dashed(t, n, g);
}

static PyObject *joined(const char *t, const Groups *g);

/* courses.module_id of ASCII text: a new reference (str or None). */
static PyObject *ascii_bytes_module_id(const char *t, Py_ssize_t n) {
    Groups g = {{0}, {0}, 0};
    if (!module_groups(t, n, &g))
        Py_RETURN_NONE;
    return joined(t, &g);
}

static PyObject *ascii_module_id(PyObject *value) {
    if (!PyUnicode_IS_ASCII(value))
        return NULL;
    return ascii_bytes_module_id((const char *)PyUnicode_DATA(value), PyUnicode_GET_LENGTH(value));
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

/* ---- event_course.course_in_id and course_in_url on ASCII text without `%` -------------------- */

enum { READ_PYTHON, READ_ID, READ_URL };

/* Its parts joined by `/`, in the buffer (emptied first). */
static int put_joined(Buffer *b, const char *t, const Groups *g) {
    Py_ssize_t len = 0;
    for (int k = 0; k < g->groups; k++)
        len += g->end[k] - g->start[k] + (k > 0);
    b->len = 0;
    if (reserve(b, len) < 0)
        return -1;
    for (int k = 0; k < g->groups; k++) {
        if (k)
            b->data[b->len++] = '/';
        put(b, t + g->start[k], g->end[k] - g->start[k]);
    }
    return 0;
}

/* Its parts joined by `/`, as a str (new reference). */
static PyObject *joined(const char *t, const Groups *g) {
    Buffer text = {NULL, 0, 0};
    PyObject *result = put_joined(&text, t, g) < 0 ? NULL : PyUnicode_DecodeASCII(text.data, text.len, NULL);
    PyMem_Free(text.data);
    return result;
}

/* `n` parts separated by `sep` from `at` (each a courses.PART); `last` NULL: nothing after. */
static int parts_at(const char *t, Py_ssize_t at, Py_ssize_t n, int count, char sep, Groups *g) {
    Py_ssize_t i = at;
    for (int k = 0; k < count; k++) {
        g->start[k] = i;
        i = g->end[k] = part_end(t, i, n);
        if (i == g->start[k] || (k < count - 1 && (i >= n || t[i++] != sep)))
            return 0;
    }
    g->groups = count;
    return 1;
}

/* _KEYED: (course|ccx|block)-v1:ORG+NUM+RUN */
static int keyed(const char *t, Py_ssize_t n, Groups *g) {
    for (const char *p = t; (p = memmem(p, n - (p - t), "-v1:", 4)) != NULL; p++) {
        Py_ssize_t k = p - t;
        if ((k >= 6 && memcmp(p - 6, "course", 6) == 0) || (k >= 3 && memcmp(p - 3, "ccx", 3) == 0) ||
            (k >= 5 && memcmp(p - 5, "block", 5) == 0))
            if (parts_at(t, k + 4, n, 3, '+', g))
                return 1;
    }
    return 0;
}

/* _COURSES_PATH's first match: /courses/ORG/NUM/RUN not followed by [\w~.:+-] */
static int courses_path(const char *t, Py_ssize_t n, Groups *g) {
    for (const char *p = t; (p = memmem(p, n - (p - t), "/courses/", 9)) != NULL; p++)
        if (parts_at(t, (p - t) + 9, n, 3, '/', g) && (g->end[2] >= n || t[g->end[2]] != '+'))
            return 1;
    return 0;
}

/* _I4X_COURSE: i4x://ORG/NUM/course/RUN */
static int i4x_course(const char *t, Py_ssize_t n, Groups *g) {
    for (const char *p = t; (p = memmem(p, n - (p - t), "i4x://", 6)) != NULL; p++) {
        Py_ssize_t at = (p - t) + 6;
        if (!parts_at(t, at, n, 2, '/', g) || !literal_at(t, g->end[1], n, "/course/"))
            continue;
        g->start[2] = g->end[1] + 8;
        g->end[2] = part_end(t, g->start[2], n);
        if (g->end[2] > g->start[2]) {
            g->groups = 3;
            return 1;
        }
    }
    return 0;
}

/* event_course._i4x_in: i4x://ORG/NUM/ or the handler path's i4x:;_;_ORG;_NUM;_ */
static int runless_i4x(const char *t, Py_ssize_t n, Groups *g) {
    for (const char *p = t; (p = memmem(p, n - (p - t), "i4x://", 6)) != NULL; p++) {
        Py_ssize_t at = (p - t) + 6;
        if (parts_at(t, at, n, 2, '/', g) && g->end[1] < n && t[g->end[1]] == '/')
            return 1;
    }
    for (const char *p = t; (p = memmem(p, n - (p - t), "i4x:;_;_", 8)) != NULL; p++) {
        Py_ssize_t i = (p - t) + 8;
        int k;
        for (k = 0; k < 2; k++) {
            g->start[k] = i;
            while (i < n && t[i] != ';' && t[i] != '/' && !is_unicode_space((unsigned char)t[i]))
                i++;
            g->end[k] = i;
            if (i == g->start[k] || !literal_at(t, i, n, ";_"))
                break;
            i += 2;
        }
        if (k == 2) {
            g->groups = 2;
            return 1;
        }
    }
    return 0;
}

/* courses.course_in_url's three readings, in its order (the groups in g): 1 when one reads. */
static int course_groups(const char *t, Py_ssize_t n, Groups *g) {
    return keyed(t, n, g) || (courses_path(t, n, g) && memchr(t + g->start[0], ':', g->end[0] - g->start[0]) == NULL) ||
           i4x_course(t, n, g);
}

/* event_course._i4x_in: an I4x (new reference), or None. */
static PyObject *runless_of(PyObject *i4x_type, const char *t, Py_ssize_t n) {
    Groups g = {{0}, {0}, 0};
    if (!runless_i4x(t, n, &g))
        Py_RETURN_NONE;
    return PyObject_CallFunction(i4x_type, "s#s#", t + g.start[0], g.end[0] - g.start[0], t + g.start[1],
                                 g.end[1] - g.start[1]);
}

/* course_in_url (courses.py, then event_course's i4x) of ASCII text without `%`. */
static PyObject *read_url(PyObject *i4x_type, const char *t, Py_ssize_t n) {
    Groups g = {{0}, {0}, 0};
    return course_groups(t, n, &g) ? joined(t, &g) : runless_of(i4x_type, t, n);
}

/* course_in_id of ASCII text without `%`: stripped, Org/Num/Run as it is, else course_in_url
   (of the stripped text; the runless i4x key looked for in the text as given). */
static PyObject *read_id(PyObject *i4x_type, const char *t, Py_ssize_t n) {
    Py_ssize_t start = 0, stop = n;
    while (start < stop && is_unicode_space((unsigned char)t[start]))
        start++;
    while (stop > start && is_unicode_space((unsigned char)t[stop - 1]))
        stop--;
    const char *s = t + start;
    Py_ssize_t m = stop - start;
    Groups g = {{0}, {0}, 0};
    if (parts_at(s, 0, m, 3, '/', &g) && g.end[2] == m)
        return PyUnicode_DecodeASCII(s, m, NULL);
    return course_groups(s, m, &g) ? joined(s, &g) : runless_of(i4x_type, t, n);
}

/* course_of(kind, text, I4x) -> the compiled reading of course_in_id ("id") or course_in_url
   ("url"); for tests. NotImplemented for text it leaves to Python (not ASCII, or with `%`). */
PyObject *native_course_of(PyObject *module, PyObject *args) {
    const char *kind;
    PyObject *text, *i4x_type;
    if (!PyArg_ParseTuple(args, "sUO:course_of", &kind, &text, &i4x_type))
        return NULL;
    Py_ssize_t n;
    const char *t = PyUnicode_AsUTF8AndSize(text, &n);
    if (t == NULL)
        return NULL;
    if (!PyUnicode_IS_ASCII(text) || memchr(t, '%', n) != NULL)
        Py_RETURN_NOTIMPLEMENTED;
    return strcmp(kind, "id") == 0 ? read_id(i4x_type, t, n) : read_url(i4x_type, t, n);
}

/* ---- the course and the block ------------------------------------------------------------- */

static void find_top(Splitter *self) {
    const Spans *s = &self->line;
    self->top_time = self->top_context = self->top_event = self->top_event_type = self->top_page = -1;
    for (int k = s->nodes[0].first; k >= 0; k = s->nodes[k].next) {
        const char *name = s->nodes[k].start;
        switch (s->nodes[k].end - name) {
        case 4:
            if (memcmp(name, "time", 4) == 0)
                self->top_time = J_VALUE(k);
            else if (memcmp(name, "page", 4) == 0)
                self->top_page = J_VALUE(k);
            break;
        case 5:
            if (memcmp(name, "event", 5) == 0)
                self->top_event = J_VALUE(k);
            break;
        case 7:
            if (memcmp(name, "context", 7) == 0)
                self->top_context = J_VALUE(k);
            break;
        case 10:
            if (memcmp(name, "event_type", 10) == 0)
                self->top_event_type = J_VALUE(k);
            break;
        }
    }
}

/* A top-level member's value, or -1 */
static int top_member(Splitter *self, const Name *name) {
    const Spans *s = &self->line;
    if (name->len == 7 && memcmp(name->text, "context", 7) == 0)
        return self->top_context;
    if (name->len == 5 && memcmp(name->text, "event", 5) == 0)
        return self->top_event;
    if (name->len == 10 && memcmp(name->text, "event_type", 10) == 0)
        return self->top_event_type;
    if (name->len == 4 && memcmp(name->text, "page", 4) == 0)
        return self->top_page;
    return j_member(s, 0, name->text, name->len);
}

/* The string a rule reads (its node in the line, or -1): a top-level field, or a field of the
   object under one (event_course.value_at). */
static int rule_value(Splitter *self, const Rule *rule) {
    const Spans *s = &self->line;
    int value = top_member(self, &rule->outer);
    if (value >= 0 && rule->inner.text != NULL)
        value = j_member(s, value, rule->inner.text, rule->inner.len);
    if (value < 0 || s->nodes[value].type != J_STR || s->nodes[value].end == s->nodes[value].start)
        return -1;
    return value;
}

/* A reader's answer for a string node: from the cache, else from the Python memo (or the reader
   itself, through memoised; `reader` NULL: module_in), then cached. A new reference. */
static PyObject *module_in(Splitter *self, PyObject *value);

static PyObject *cached(Splitter *self, const Node *node, Cache *cache, PyObject *memo, PyObject *reader, int kind) {
    const char *text;
    Py_ssize_t n;
    if (text_of(node, &self->decoded, &text, &n) < 0)
        return NULL;
    uint64_t hash = digest(text, n).low;
    PyObject *found = cache_get(cache, text, n, hash);
    if (found != NULL)
        return Py_NewRef(found);
    if (kind != READ_PYTHON && memchr(text, '%', n) == NULL && is_ascii(text, n)) {
        found = kind == READ_ID ? read_id(self->i4x_type, text, n) : read_url(self->i4x_type, text, n);
    } else {
        PyObject *value = PyUnicode_DecodeUTF8(text, n, NULL);
        if (value == NULL)
            return NULL;
        found = reader ? memoised(memo, reader, value, self->memo_limit) : module_in(self, value);
        Py_DECREF(value);
    }
    if (found != NULL && cache_put(cache, text, n, hash, found, self->memo_limit) < 0)
        Py_CLEAR(found);
    return found;
}

/* The course by the rule table: a new reference to a str, Py_None, or Py_NotImplemented for an
   i4x key without a run (resolved once the file is read), then `*i4x` is a new reference to that
   I4x(org, num); NULL on error. */
static PyObject *find_course(Splitter *self, PyObject **i4x) {
    PyObject *first_i4x = NULL;
    for (int i = 0; i < self->nrules; i++) {
        int node = rule_value(self, &self->rules[i]);
        if (node < 0)
            continue;
        PyObject *found = cached(self, &self->line.nodes[node], self->rules[i].cache, self->rules[i].memo,
                                 self->rules[i].reader, self->rules[i].kind);
        if (found == NULL) {
            Py_XDECREF(first_i4x);
            return NULL;
        }
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

/* courses.module_id of a str through the memo: the compiled reading for ASCII text, else the
   Python reader. A new reference, NULL on error. */
static PyObject *module_in(Splitter *self, PyObject *value) {
    PyObject *found = PyDict_GetItemWithError(self->module_memo, value);
    if (found != NULL) {
        Py_INCREF(found);
        return found;
    }
    if (PyErr_Occurred())
        return NULL;
    found = ascii_module_id(value);
    if (found == NULL) {
        if (PyErr_Occurred())
            return NULL;
        return memoised(self->module_memo, self->module_in, value, self->memo_limit);
    }
    if (PyDict_GET_SIZE(self->module_memo) > self->memo_limit)
        PyDict_Clear(self->module_memo);
    if (PyDict_SetItem(self->module_memo, value, found) < 0)
        Py_CLEAR(found);
    return found;
}

/* event_course.module_of, its text into self->module: 1 found, 0 none, -1 error. `payload` is
   the payload object's node in `ps` (-1: none). ASCII text is read here, with no str made (a
   cache would not pay: block keys are many, a day's often beyond the memo's limit); other text
   by the Python reader, through the cache. */
static int find_module(Splitter *self, const Spans *ps, int payload) {
    const Spans *s = &self->line;
    int context = self->top_context;
    int module = context >= 0 ? J_MEMBER(s, context, "module") : -1;
    int filled = payload >= 0 && ps->nodes[payload].count > 0;
    struct {
        const Spans *spans;
        int node;
    } candidates[5] = {
        {s, module >= 0 ? J_MEMBER(s, module, "usage_key") : -1},
        {ps, filled ? J_MEMBER(ps, payload, "id") : -1},
        {ps, filled ? J_MEMBER(ps, payload, "problem_id") : -1},
        {s, self->top_event_type},
        {s, self->top_page},
    };
    for (int i = 0; i < 5; i++) {
        int node = candidates[i].node;
        if (node < 0)
            continue;
        const Node *n = &candidates[i].spans->nodes[node];
        if (n->type != J_STR || n->end == n->start)
            continue;
        const char *text;
        Py_ssize_t len;
        if (text_of(n, &self->decoded, &text, &len) < 0)
            return -1;
        if (is_ascii(text, len)) {
            Groups g = {{0}, {0}, 0};
            if (!module_groups(text, len, &g))
                continue;
            if (put_joined(&self->module, text, &g) < 0)
                return -1;
            if (self->module.len > 0)
                return 1;
            continue;
        }
        PyObject *found = cached(self, n, &self->caches[self->ncaches - 1], NULL, NULL, READ_PYTHON);
        if (found == NULL)
            return -1;
        int result = 0;
        if (PyUnicode_Check(found) && PyUnicode_GET_LENGTH(found) > 0) {
            const char *utf8 = PyUnicode_AsUTF8AndSize(found, &len);
            self->module.len = 0;
            result = utf8 == NULL || reserve(&self->module, len) < 0 ? -1 : 1;
            if (result == 1)
                put(&self->module, utf8, len);
        }
        Py_DECREF(found);
        if (result != 0)
            return result;
    }
    return 0;
}

/* ---- writing JSON as orjson.dumps ------------------------------------------------------------ */

/* A string node as orjson writes the str: as it is when it has no escapes (the reader let no
   byte orjson escapes through), else decoded and escaped. */
static int put_jstring(Splitter *self, Buffer *b, const Node *node) {
    const char *text;
    Py_ssize_t n;
    if (text_of(node, &self->decoded, &text, &n) < 0 || reserve(b, 6 * n + 2) < 0)
        return -1;
    if (!node->escaped) {
        b->data[b->len++] = '"';
        put(b, text, n);
        b->data[b->len++] = '"';
    } else {
        put_string(b, text, n);
    }
    return 1;
}

static int put_str(Buffer *b, PyObject *text) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL)
        return -1;
    if (reserve(b, 6 * n + 2) < 0)
        return -1;
    put_string(b, utf8, n);
    return 1;
}

/* UTF-8 text as a JSON string: a JSON text in a row's string (orjson.dumps(x).decode()), a
   module id. */
static int put_as_string(Buffer *b, const char *json, Py_ssize_t n) {
    if (reserve(b, 6 * n + 2) < 0)
        return -1;
    put_string(b, json, n);
    return 1;
}

/* The text of an integer node as Python writes the int ("-0" is 0). */
static void int_text(const Node *node, const char **text, Py_ssize_t *n) {
    *text = node->start;
    *n = node->end - node->start;
    if (*n == 2 && memcmp(*text, "-0", 2) == 0) {
        *text = "0";
        *n = 1;
    }
}

/* Python's repr of a finite double into `out` (room for 32); its length. */
static int repr_of(double value, char out[32]) {
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL)
        return -1;
    int n = (int)strlen(text);
    if (n >= 32) {
        PyMem_Free(text);
        return -2;
    }
    memcpy(out, text, n + 1);
    PyMem_Free(text);
    return n;
}

static double number_of(const Node *node) {
    char text[72];
    Py_ssize_t n = node->end - node->start;
    memcpy(text, node->start, n);
    text[n] = '\0';
    return strtod(text, NULL);
}

/* Python's repr of the double a number's text reads as, without computing it, when the text has
   at most 15 significant digits and no exponent, and 1e-4 <= |value| < 1e16 or value is 0: the
   text itself, trailing zeros dropped (no other decimal of at most 15 digits reads as the same
   double, so repr's shortest one is this one). Its length, or 0 when the text is not such. */
static int short_repr(const char *text, Py_ssize_t n, char out[40]) {
    Py_ssize_t i = 0, o = 0;
    if (n > 34)
        return 0;
    if (text[0] == '-')
        out[o++] = text[i++];
    Py_ssize_t int_start = i;
    while (i < n && is_digit(text[i]))
        i++;
    Py_ssize_t int_digits = i - int_start, frac_start = i + 1, frac_end = frac_start;
    if (int_digits == 0 || int_digits > 16 || (int_digits > 1 && text[int_start] == '0'))
        return 0;
    if (i < n) {
        if (text[i] != '.')
            return 0;
        for (frac_end = frac_start; frac_end < n && is_digit(text[frac_end]); frac_end++)
            ;
        if (frac_end != n || frac_end == frac_start)
            return 0;
    } else {
        frac_start = frac_end = n;
    }
    Py_ssize_t last = frac_end; /* after the last nonzero fraction digit */
    while (last > frac_start && text[last - 1] == '0')
        last--;
    int zero_int = int_digits == 1 && text[int_start] == '0';
    Py_ssize_t leading = 0; /* zeros after the point before the first significant digit */
    if (zero_int)
        while (frac_start + leading < last && text[frac_start + leading] == '0')
            leading++;
    Py_ssize_t significant = (zero_int ? 0 : int_digits) + (last - frac_start) - leading;
    if (significant > 15 || (zero_int && last > frac_start && leading > 3))
        return 0;
    memcpy(out + o, text + int_start, int_digits);
    o += int_digits;
    out[o++] = '.';
    if (last == frac_start) {
        out[o++] = '0';
    } else {
        memcpy(out + o, text + frac_start, last - frac_start);
        o += last - frac_start;
    }
    return (int)o;
}

/* A number node read as a float, as orjson writes it: the short form above, else Python's repr,
   which orjson matches but for an exponent. */
static int put_float(Buffer *b, double value);

static int put_float_of(Buffer *b, const Node *node) {
    char text[40];
    Py_ssize_t length = node->end - node->start;
    if (node->type == J_INT && length == 2 && memcmp(node->start, "-0", 2) == 0) /* the int 0 */
        return PUT_TEXT(b, "0.0") < 0 ? -1 : 1;
    int n = short_repr(node->start, length, text);
    if (n > 0)
        return put_text(b, text, n) < 0 ? -1 : 1;
    return put_float(b, number_of(node));
}

/* A float as orjson writes it: Python's repr, which orjson matches but for an exponent. */
static int put_float(Buffer *b, double value) {
    char text[32];
    int n = repr_of(value, text);
    if (n == -1)
        return -1;
    if (n < 0 || strchr(text, 'e') != NULL)
        return FALLBACK;
    return put_text(b, text, n) < 0 ? -1 : 1;
}

/* orjson.dumps of the value a node holds. */
static int put_value(Splitter *self, Buffer *b, const Spans *s, int index) {
    const Node *node = &s->nodes[index];
    const char *text;
    Py_ssize_t n;
    int result;
    switch (node->type) {
    case J_STR: return put_jstring(self, b, node);
    case J_INT: int_text(node, &text, &n); return put_text(b, text, n) < 0 ? -1 : 1;
    case J_FLOAT: return put_float_of(b, node);
    case J_TRUE: return PUT_TEXT(b, "true") < 0 ? -1 : 1;
    case J_FALSE: return PUT_TEXT(b, "false") < 0 ? -1 : 1;
    case J_NULL: return PUT_TEXT(b, "null") < 0 ? -1 : 1;
    case J_ARR:
        if (PUT_TEXT(b, "[") < 0)
            return -1;
        for (int item = node->first; item >= 0; item = s->nodes[item].next) {
            if (item != node->first && PUT_TEXT(b, ",") < 0)
                return -1;
            if ((result = put_value(self, b, s, item)) <= 0)
                return result;
        }
        return PUT_TEXT(b, "]") < 0 ? -1 : 1;
    default: /* J_OBJ: its keys have no escapes */
        if (PUT_TEXT(b, "{") < 0)
            return -1;
        for (int key = node->first; key >= 0; key = s->nodes[key].next) {
            if (key != node->first && PUT_TEXT(b, ",") < 0)
                return -1;
            if (put_jstring(self, b, &s->nodes[key]) < 0 || PUT_TEXT(b, ":") < 0)
                return -1;
            if ((result = put_value(self, b, s, J_VALUE(key))) <= 0)
                return result;
        }
        return PUT_TEXT(b, "}") < 0 ? -1 : 1;
    }
}

/* The JSON text of a node's value, as a JSON string (json_text inside a row). */
static int put_value_as_string(Splitter *self, Buffer *b, const Spans *s, int index) {
    self->scratch.len = 0;
    int result = put_value(self, &self->scratch, s, index);
    if (result <= 0)
        return result;
    return put_as_string(b, self->scratch.data, self->scratch.len);
}

/* coerce.to_string of a node's value (not null): as a JSON string. */
static int put_to_string(Splitter *self, Buffer *b, const Spans *s, int index) {
    const Node *node = &s->nodes[index];
    const char *text;
    Py_ssize_t n;
    char repr[40];
    switch (node->type) {
    case J_STR: return put_jstring(self, b, node);
    case J_INT: int_text(node, &text, &n); return put_as_string(b, text, n);
    case J_FLOAT: {
        int len = short_repr(node->start, node->end - node->start, repr);
        if (len > 0)
            return put_as_string(b, repr, len);
        len = repr_of(number_of(node), repr); /* str(float): its exponent as Python writes it */
        if (len == -1)
            return -1;
        return len < 0 ? FALLBACK : put_as_string(b, repr, len);
    }
    case J_TRUE: return PUT_TEXT(b, "\"true\"") < 0 ? -1 : 1;
    case J_FALSE: return PUT_TEXT(b, "\"false\"") < 0 ? -1 : 1;
    case J_NULL: return PUT_TEXT(b, "null") < 0 ? -1 : 1;
    default: return put_value_as_string(self, b, s, index);
    }
}

/* `,"key":` with the key as it is in the text (a comma unless it is the object's first member) */
static int put_key(Buffer *b, const Node *key, int *first) {
    Py_ssize_t n = key->end - key->start;
    if (reserve(b, n + 4) < 0)
        return -1;
    if (!*first)
        b->data[b->len++] = ',';
    *first = 0;
    b->data[b->len++] = '"';
    put(b, key->start, n);
    b->data[b->len++] = '"';
    b->data[b->len++] = ':';
    return 1;
}

/* ---- the coercions of tracklog.coerce_record ----------------------------------------------------- */

/* A scalar column's value (not null) by coerce.to_integer, to_float or to_boolean: 1 written,
   2 None (nothing written), 0 Python's (a string: its parsing is Python's), -1 error. */
static int put_scalar(Buffer *b, int kind, const Node *node) {
    const char *text;
    Py_ssize_t n;
    if (node->type == J_STR)
        return FALLBACK;
    if (kind == K_INTEGER) {
        if (node->type == J_TRUE || node->type == J_FALSE)
            return put_text(b, node->type == J_TRUE ? "1" : "0", 1) < 0 ? -1 : 1;
        if (node->type == J_INT) {
            int_text(node, &text, &n);
            int negative = text[0] == '-';
            /* beyond INT64 (a uint64) is None */
            if (n - negative > 19 || (n - negative == 19 && strncmp(text + negative, negative ? "9223372036854775808" : "9223372036854775807", 19) > 0))
                return 2;
            return put_text(b, text, n) < 0 ? -1 : 1;
        }
        if (node->type == J_FLOAT) {
            double value = number_of(node);
            if (value != floor(value) || value < -9223372036854775808.0 || value >= 9223372036854775808.0)
                return 2;
            char digits[24];
            int len = snprintf(digits, sizeof digits, "%lld", (long long)value);
            return put_text(b, digits, len) < 0 ? -1 : 1;
        }
        return 2;
    }
    if (kind == K_FLOAT) {
        if (node->type == J_INT || node->type == J_FLOAT)
            return put_float_of(b, node);
        return 2; /* a bool is not an int to to_float */
    }
    /* K_BOOLEAN */
    if (node->type == J_TRUE || node->type == J_FALSE)
        return put_text(b, node->type == J_TRUE ? "true" : "false", node->type == J_TRUE ? 4 : 5) < 0 ? -1 : 1;
    if (node->type == J_INT) {
        int_text(node, &text, &n);
        if (n == 1 && (text[0] == '0' || text[0] == '1'))
            return put_text(b, text[0] == '1' ? "true" : "false", text[0] == '1' ? 4 : 5) < 0 ? -1 : 1;
    }
    return 2;
}

static int put_record(Splitter *self, Buffer *b, const Node *name, int *first, const Spans *s, int object,
                      const Plan *plan, Buffer *unknown, const Name *only, int nonly);

/* One member of a record: 1 (written or not), 0 Python's, -1 error. */
static int put_field(Splitter *self, Buffer *b, int *first, const Spans *s, int object, int key, const Plan *plan,
                     Buffer *unknown) {
    const Node *k = &s->nodes[key];
    int value = J_VALUE(key), result;
    const Node *v = &s->nodes[value];
    const Field *field = field_of(plan, k);
    if (field == NULL) {
        const Name *renamed = NULL;
        for (int i = 0; i < self->nrenamed; i++)
            if (name_is(k, &self->renamed[2 * i]))
                renamed = &self->renamed[2 * i + 1];
        field = renamed ? field_named(plan, renamed) : NULL;
        if (field == NULL) {
            if (unknown != NULL) {
                if (unknown->len > 1 && PUT_TEXT(unknown, ",") < 0)
                    return -1;
                int none = 1;
                if (put_key(unknown, k, &none) < 0)
                    return -1;
                return put_value(self, unknown, s, value);
            }
            return 1;
        }
        if (j_member(s, object, renamed->text, renamed->len) >= 0)
            return FALLBACK; /* both spellings: which one the dict keeps is Python's */
    }
    if (v->type == J_NULL)
        return 1;
    Node name = {J_STR, 0, 0, -1, -1, field->name, field->name + field->len};
    if (field->kind == K_STRING) {
        if (put_key(b, &name, first) < 0)
            return -1;
        return put_to_string(self, b, s, value);
    }
    if (field->kind == K_RECORD) {
        if (v->type != J_OBJ)
            return 1;
        result = put_record(self, b, &name, first, s, value, field->sub, NULL, NULL, 0);
        return result == 2 ? 1 : result;
    }
    Py_ssize_t start = b->len;
    int was_first = *first;
    if (put_key(b, &name, first) < 0)
        return -1;
    result = put_scalar(b, field->kind, v);
    if (result == 2) { /* None: not written */
        b->len = start;
        *first = was_first;
        return 1;
    }
    return result;
}

/* tracklog.coerce_record of an object node by a plan, written as the member `"name":{...}` when
   it keeps anything: 1 written, 2 nothing kept (nothing written), 0 Python's, -1 error. Unknown
   members go to `unknown` (an object's text under way, `{` written) when given; `only` names the
   members to take, in that order (event_struct's GET, POST and query). */
static int put_record(Splitter *self, Buffer *b, const Node *name, int *first, const Spans *s, int object,
                      const Plan *plan, Buffer *unknown, const Name *only, int nonly) {
    Py_ssize_t start = b->len;
    int outer_first = *first, inner_first = 1, result;
    if (put_key(b, name, first) < 0 || PUT_TEXT(b, "{") < 0)
        return -1;
    if (only != NULL) {
        for (int i = 0; i < nonly; i++) {
            int value = j_member(s, object, only[i].text, only[i].len);
            if (value >= 0 && (result = put_field(self, b, &inner_first, s, object, value - 1, plan, unknown)) <= 0)
                return result;
        }
    } else {
        for (int key = s->nodes[object].first; key >= 0; key = s->nodes[key].next)
            if ((result = put_field(self, b, &inner_first, s, object, key, plan, unknown)) <= 0)
                return result;
    }
    if (inner_first) {
        b->len = start;
        *first = outer_first;
        return 2;
    }
    return PUT_TEXT(b, "}") < 0 ? -1 : 1;
}

/* tracklog.event_struct of the payload (node `payload` of `ps`), as the member `event_struct`. */
static int put_event_struct(Splitter *self, Buffer *b, int *first, const Spans *ps, int payload) {
    static const char EVENT_STRUCT[] = "event_struct";
    static const Node name = {J_STR, 0, 0, -1, -1, EVENT_STRUCT, EVENT_STRUCT + sizeof EVENT_STRUCT - 1};
    static const Name picked[3] = {{"GET", 3}, {"POST", 4}, {"query", 5}};
    int type = self->top_event_type, typed = 0;
    if (type >= 0 && self->line.nodes[type].type == J_STR) {
        const char *text;
        Py_ssize_t n;
        if (text_of(&self->line.nodes[type], &self->decoded, &text, &n) < 0)
            return -1;
        typed = in_names(text, n, self->struct_types, self->nstruct_types) || memmem(text, n, "problem_", 8) != NULL;
    }
    int result = put_record(self, b, &name, first, ps, payload, self->struct_plan, NULL, typed ? NULL : picked,
                            typed ? 0 : 3);
    return result == 2 ? 1 : result;
}

/* extra's member `"key":value` */
static int put_extra(Splitter *self, const Node *key, const Spans *s, int value) {
    Buffer *extra = &self->extra;
    int none = 1;
    if (extra->len > 1 && PUT_TEXT(extra, ",") < 0)
        return -1;
    if (put_key(extra, key, &none) < 0)
        return -1;
    return put_value(self, extra, s, value);
}

/* tracklog.normalise of the line (its object is node 0), as one JSON line in self->row. */
static int put_row(Splitter *self, PyObject *course, int module, const Spans *ps, int payload) {
    const Spans *s = &self->line;
    Buffer *row = &self->row;
    int first = 1, result;
    row->len = 0;
    self->extra.len = 0;
    if (PUT_TEXT(&self->extra, "{") < 0 || PUT_TEXT(row, "{\"time\":") < 0)
        return -1;
    first = 0;
    if (put_jstring(self, row, &s->nodes[self->top_time]) < 0)
        return -1;
    for (int key = s->nodes[0].first; key >= 0; key = s->nodes[key].next) {
        const Node *k = &s->nodes[key];
        int value = J_VALUE(key);
        const Node *v = &s->nodes[value];
        Py_ssize_t n = k->end - k->start;
        if (in_names(k->start, n, self->own_top, self->nown_top)) {
            if (v->type == J_NULL)
                continue;
            if (put_key(row, k, &first) < 0)
                return -1;
            result = put_to_string(self, row, s, value);
        } else if (n == 7 && memcmp(k->start, "context", 7) == 0) {
            if (v->type == J_OBJ) {
                Buffer *unknown = &self->unknown;
                unknown->len = 0;
                if (PUT_TEXT(unknown, "{") < 0)
                    return -1;
                result = put_record(self, row, k, &first, s, value, self->context_plan, unknown, NULL, 0);
                if (result > 0 && unknown->len > 1) {
                    Buffer *extra = &self->extra;
                    if ((extra->len > 1 && PUT_TEXT(extra, ",") < 0) || PUT_TEXT(extra, "\"context\":") < 0 ||
                        put_text(extra, unknown->data, unknown->len) < 0 || PUT_TEXT(extra, "}") < 0)
                        return -1;
                }
            } else {
                result = v->type == J_NULL ? 1 : put_extra(self, k, s, value);
            }
        } else if (n == 5 && memcmp(k->start, "event", 5) == 0) {
            if (v->type == J_NULL)
                continue;
            if (put_key(row, k, &first) < 0)
                return -1;
            result = v->type == J_STR ? put_jstring(self, row, v) : put_value_as_string(self, row, s, value);
            if (result > 0 && payload >= 0)
                result = put_event_struct(self, row, &first, ps, payload);
        } else if (n == 3 && memcmp(k->start, "_id", 3) == 0) {
            int oid = J_MEMBER(s, value, "$oid");
            if (oid >= 0 && s->nodes[oid].type == J_STR)
                result = PUT_TEXT(row, ",\"mongoid\":") < 0 ? -1 : put_jstring(self, row, &s->nodes[oid]);
            else
                result = put_extra(self, k, s, value);
        } else if (n == 4 && memcmp(k->start, "time", 4) == 0) {
            continue;
        } else {
            result = put_extra(self, k, s, value);
        }
        if (result <= 0)
            return result;
    }
    self->course_at = row->len;
    if (course != Py_None && (PUT_TEXT(row, ",\"course_id\":") < 0 || put_str(row, course) < 0))
        return -1;
    if (module && (PUT_TEXT(row, ",\"module_id\":") < 0 || put_as_string(row, self->module.data, self->module.len) < 0))
        return -1;
    if (self->extra.len > 1) {
        if (PUT_TEXT(&self->extra, "}") < 0 || PUT_TEXT(row, ",\"extra\":") < 0 ||
            put_as_string(row, self->extra.data, self->extra.len) < 0)
            return -1;
    }
    return PUT_TEXT(row, "}\n") < 0 ? -1 : 1;
}

/* ---- one line ------------------------------------------------------------------------------------ */

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

/* A row of an event whose i4x key names no run, for the split's pending file (written when run
   returns) as `[org, num, head, tail]`: the row is head + the course_id member (once the run is
   known) + tail. */
static int put_pending(Splitter *self, PyObject *i4x) {
    Buffer *out = &self->pending;
    if (!PyTuple_Check(i4x) || PyTuple_GET_SIZE(i4x) != 2 || !PyUnicode_CheckExact(PyTuple_GET_ITEM(i4x, 0)) ||
        !PyUnicode_CheckExact(PyTuple_GET_ITEM(i4x, 1)))
        return FALLBACK;
    if (PUT_TEXT(out, "[") < 0 || put_str(out, PyTuple_GET_ITEM(i4x, 0)) < 0 || PUT_TEXT(out, ",") < 0 ||
        put_str(out, PyTuple_GET_ITEM(i4x, 1)) < 0 || PUT_TEXT(out, ",") < 0 ||
        put_as_string(out, self->row.data, self->course_at) < 0 || PUT_TEXT(out, ",") < 0 ||
        put_as_string(out, self->row.data + self->course_at, self->row.len - 1 - self->course_at) < 0 ||
        PUT_TEXT(out, "]\n") < 0)
        return -1;
    return 1;
}

static int write_pending(Splitter *self) {
    if (self->pending.len == 0)
        return 0;
    PyObject *written = PyObject_CallMethod(self->pending_file, "write", "y#", self->pending.data, self->pending.len);
    self->pending.len = 0;
    if (written == NULL)
        return -1;
    Py_DECREF(written);
    return 0;
}

/* The payload (tracklog.payload_of) as a node: the `event` object in the line, or the object a
   browser event's `event` string holds (read into self->payload); -1 for none, -2 for a text
   this reader leaves to Python, -3 on error. */
static int payload_of(Splitter *self, const Spans **ps) {
    int event = self->top_event;
    *ps = &self->line;
    if (event < 0)
        return -1;
    const Node *node = &self->line.nodes[event];
    if (node->type == J_OBJ)
        return event;
    if (node->type != J_STR || node->end == node->start)
        return -1;
    const char *text;
    Py_ssize_t n;
    if (text_of(node, &self->payload_text, &text, &n) < 0)
        return -3;
    if (n == 0 || text[0] != '{')
        return -1;
    *ps = &self->payload;
    int result = j_parse(&self->payload, text, n);
    if (result == J_NOMEM)
        return -3;
    if (result == J_UNSURE)
        return -2;
    return result == J_OK && self->payload.nodes[0].type == J_OBJ ? 0 : -1;
}

/* One line (not blank, not a duplicate): 1 done, 0 Python's, -1 error. */
static int split_line(Splitter *self, const char *text, Py_ssize_t n, Py_ssize_t *buffered) {
    int parsed = j_parse(&self->line, text, n);
    if (parsed == J_NOMEM)
        return -1;
    if (parsed != J_OK || self->line.nodes[0].type != J_OBJ)
        return FALLBACK;
    find_top(self);
    int time = self->top_time;
    if (time < 0 || self->line.nodes[time].type != J_STR || self->line.nodes[time].escaped ||
        !surely_valid_time(self->line.nodes[time].start, self->line.nodes[time].end - self->line.nodes[time].start))
        return FALLBACK;
    PyObject *i4x = NULL, *course = find_course(self, &i4x), *path = NULL;
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
    const Spans *ps;
    int payload = payload_of(self, &ps);
    if (payload == -3 || payload == -2) {
        result = payload == -3 ? -1 : FALLBACK;
        goto done;
    }
    int module = find_module(self, ps, payload);
    if (module < 0) {
        result = -1;
        goto done;
    }
    result = put_row(self, course == Py_NotImplemented ? Py_None : course, module, ps, payload);
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
    Py_XDECREF(i4x);
    Py_DECREF(course);
    return result;
}

/* run(block, offset) -> (offset, end, lines): the lines of `block` (a bytes-like object; lines
   split on b"\n", the last without one) from `offset` are taken here up to the first that is
   Python's, whose offset and end (its newline, or len(block)) are returned with how many lines were
   taken before it (blank and duplicate ones included); the line at that offset is already checked
   for blank and duplicate. Past the last line, the offset returned is len(block) + 1. */
static PyObject *Splitter_run(Splitter *self, PyObject *args) {
    Py_buffer block;
    Py_ssize_t offset, done = 0, line_end = 0;
    if (!PyArg_ParseTuple(args, "y*n:run", &block, &offset))
        return NULL;
    PyObject *held = PyObject_GetAttr(self->outputs, self->key_buffered);
    Py_ssize_t buffered = held ? PyLong_AsSsize_t(held) : -1;
    Py_XDECREF(held);
    if (buffered == -1 && PyErr_Occurred()) {
        PyBuffer_Release(&block);
        return NULL;
    }
    const char *data = block.buf;
    Py_ssize_t size = block.len;
    int failed = 0;
    while (offset <= size) {
        const char *newline = memchr(data + offset, '\n', size - offset);
        Py_ssize_t end = newline ? newline - data : size, start = offset, stop = end;
        line_end = end;
        while (start < stop && is_space(data[start]))
            start++;
        while (stop > start && is_space(data[stop - 1]))
            stop--;
        if (start < stop) {
            int added = self->deduplicate ? seen_add(self, data + start, stop - start) : 1;
            if (added < 0) {
                failed = 1;
                break;
            }
            if (added == 0) {
                self->duplicates++;
            } else {
                int result = split_line(self, data + start, stop - start, &buffered);
                if (result < 0) {
                    failed = 1;
                    break;
                }
                if (result == FALLBACK)
                    break;
                self->lines++;
            }
        } else {
            self->blank++;
        }
        done++;
        offset = end + 1;
    }
    PyBuffer_Release(&block);
    if (!failed && write_pending(self) < 0)
        failed = 1;
    PyObject *count = PyLong_FromSsize_t(buffered);
    if (count == NULL || PyObject_SetAttr(self->outputs, self->key_buffered, count) < 0)
        failed = 1;
    Py_XDECREF(count);
    return failed ? NULL : Py_BuildValue("nnn", offset, line_end, done);
}

/* ---- the type ------------------------------------------------------------------------------------ */

static int name_from(PyObject *text, Name *name) {
    Py_ssize_t n;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &n);
    if (utf8 == NULL)
        return -1;
    if ((name->text = PyMem_Malloc(n + 1)) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    memcpy(name->text, utf8, n + 1);
    name->len = n;
    return 0;
}

/* The names of a set (or the items of a sequence) as Names. */
static int names_from(PyObject *items, Name **names, int *count) {
    PyObject *list = PySequence_List(items);
    if (list == NULL)
        return -1;
    Py_ssize_t n = PyList_GET_SIZE(list);
    *names = PyMem_Calloc(n ? n : 1, sizeof(Name));
    *count = 0;
    int failed = *names == NULL;
    for (Py_ssize_t i = 0; i < n && !failed; i++, (*count)++)
        failed = name_from(PyList_GET_ITEM(list, i), &(*names)[i]) < 0;
    Py_DECREF(list);
    if (*names == NULL)
        PyErr_NoMemory();
    return failed ? -1 : 0;
}

static void free_names(Name *names, int count) {
    for (int i = 0; names && i < count; i++)
        PyMem_Free(names[i].text);
    PyMem_Free(names);
}

static void free_plan(Plan *plan) {
    if (plan == NULL)
        return;
    for (int i = 0; i < plan->n; i++) {
        PyMem_Free(plan->fields[i].name);
        free_plan(plan->fields[i].sub);
    }
    PyMem_Free(plan->fields);
    PyMem_Free(plan);
}

/* A Plan from Plan.as_tuple(): (strings, scalars {name: coercer}, records {name: tuple}, names). */
static Plan *plan_from(PyObject *tuple, PyObject *to_integer, PyObject *to_float, PyObject *to_boolean) {
    if (!PyTuple_Check(tuple) || PyTuple_GET_SIZE(tuple) != 4) {
        PyErr_SetString(PyExc_TypeError, "Splitter: a plan is Plan.as_tuple()");
        return NULL;
    }
    PyObject *names = PySequence_List(PyTuple_GET_ITEM(tuple, 3));
    if (names == NULL)
        return NULL;
    Plan *plan = PyMem_Calloc(1, sizeof(Plan));
    Py_ssize_t n = PyList_GET_SIZE(names);
    if (plan == NULL || (plan->fields = PyMem_Calloc(n ? n : 1, sizeof(Field))) == NULL) {
        PyMem_Free(plan);
        Py_DECREF(names);
        PyErr_NoMemory();
        return NULL;
    }
    for (Py_ssize_t i = 0; i < n; i++, plan->n++) {
        PyObject *key = PyList_GET_ITEM(names, i);
        Field *field = &plan->fields[i];
        Name name;
        if (name_from(key, &name) < 0)
            goto failed;
        field->name = name.text;
        field->len = name.len;
        PyObject *coercer = PyDict_GetItemWithError(PyTuple_GET_ITEM(tuple, 1), key);
        PyObject *record = coercer ? NULL : PyDict_GetItemWithError(PyTuple_GET_ITEM(tuple, 2), key);
        if (PyErr_Occurred())
            goto failed;
        if (coercer != NULL) {
            field->kind = coercer == to_integer ? K_INTEGER : coercer == to_float ? K_FLOAT : coercer == to_boolean ? K_BOOLEAN : -1;
            if (field->kind < 0) {
                PyErr_SetString(PyExc_TypeError, "Splitter: a coercer it does not know");
                goto failed;
            }
        } else if (record != NULL) {
            field->kind = K_RECORD;
            if ((field->sub = plan_from(record, to_integer, to_float, to_boolean)) == NULL)
                goto failed;
        } else {
            field->kind = K_STRING;
        }
    }
    Py_DECREF(names);
    return plan;
failed:
    plan->n++;
    Py_DECREF(names);
    free_plan(plan);
    return NULL;
}

static int Splitter_init(Splitter *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"rules", "module_memo", "module_in", "own_top", "context_plan", "struct_plan",
                            "struct_types", "renamed", "to_integer", "to_float", "to_boolean", "routes",
                            "by_course", "no_course", "outputs", "memo_limit", "flush_bytes", "deduplicate",
                            "i4x", "pending", NULL};
    PyObject *rules, *module_memo, *module_in, *own_top, *context_plan, *struct_plan, *struct_types, *renamed,
        *to_integer, *to_float, *to_boolean, *routes, *by_course, *no_course, *outputs, *i4x, *pending = Py_None;
    if (self->rules != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "Splitter: made once");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!OOO!O!OO!OOOO!O!UOnnpO|O:Splitter", names, &PyTuple_Type,
                                     &rules, &PyDict_Type, &module_memo, &module_in, &own_top, &PyTuple_Type,
                                     &context_plan, &PyTuple_Type, &struct_plan, &struct_types, &PyDict_Type,
                                     &renamed, &to_integer, &to_float, &to_boolean, &PyDict_Type, &routes,
                                     &PyDict_Type, &by_course, &no_course, &outputs, &self->memo_limit,
                                     &self->flush_bytes, &self->deduplicate, &i4x, &pending))
        return -1;
    Py_ssize_t nrules = PyTuple_GET_SIZE(rules);
    if ((self->rules = PyMem_Calloc(nrules ? nrules : 1, sizeof(Rule))) == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < nrules; i++, self->nrules++) {
        PyObject *rule = PyTuple_GET_ITEM(rules, i); /* (outer, inner or None, memo, reader, "id"/"url"/None) */
        Rule *r = &self->rules[i];
        if (!PyTuple_Check(rule) || PyTuple_GET_SIZE(rule) != 5 || !PyDict_Check(PyTuple_GET_ITEM(rule, 2))) {
            PyErr_SetString(PyExc_TypeError, "Splitter: a rule is (outer, inner, memo, reader, kind)");
            return -1;
        }
        PyObject *kind = PyTuple_GET_ITEM(rule, 4);
        r->kind = kind == Py_None                                     ? READ_PYTHON
                  : PyUnicode_CompareWithASCIIString(kind, "id") == 0 ? READ_ID
                                                                      : READ_URL;
        if (name_from(PyTuple_GET_ITEM(rule, 0), &r->outer) < 0 ||
            (PyTuple_GET_ITEM(rule, 1) != Py_None && name_from(PyTuple_GET_ITEM(rule, 1), &r->inner) < 0))
            return -1;
        r->memo = Py_NewRef(PyTuple_GET_ITEM(rule, 2));
        r->reader = Py_NewRef(PyTuple_GET_ITEM(rule, 3));
        for (Py_ssize_t j = 0; j < i && r->cache == NULL; j++)
            if (self->rules[j].memo == r->memo)
                r->cache = self->rules[j].cache;
        if (r->cache == NULL) {
            if (self->ncaches == 7) {
                PyErr_SetString(PyExc_ValueError, "Splitter: at most 7 readers");
                return -1;
            }
            r->cache = &self->caches[self->ncaches++];
        }
    }
    self->ncaches++; /* the blocks' */
    PyObject *pairs = PyDict_Items(renamed);
    if (pairs == NULL)
        return -1;
    PyObject *flat = PyList_New(0);
    for (Py_ssize_t i = 0; flat != NULL && i < PyList_GET_SIZE(pairs); i++) {
        PyObject *pair = PyList_GET_ITEM(pairs, i);
        if (PyList_Append(flat, PyTuple_GET_ITEM(pair, 0)) < 0 || PyList_Append(flat, PyTuple_GET_ITEM(pair, 1)) < 0)
            Py_CLEAR(flat);
    }
    Py_DECREF(pairs);
    int failed = flat == NULL || names_from(flat, &self->renamed, &self->nrenamed) < 0;
    Py_XDECREF(flat);
    self->nrenamed /= 2;
    if (failed || names_from(own_top, &self->own_top, &self->nown_top) < 0 ||
        names_from(struct_types, &self->struct_types, &self->nstruct_types) < 0 ||
        (self->context_plan = plan_from(context_plan, to_integer, to_float, to_boolean)) == NULL ||
        (self->struct_plan = plan_from(struct_plan, to_integer, to_float, to_boolean)) == NULL)
        return -1;
    self->module_memo = Py_NewRef(module_memo);
    self->module_in = Py_NewRef(module_in);
    self->routes = Py_NewRef(routes);
    self->by_course = Py_NewRef(by_course);
    self->no_course = Py_NewRef(no_course);
    self->outputs = Py_NewRef(outputs);
    self->pending_file = Py_NewRef(pending);
    self->i4x_type = Py_NewRef(i4x);
    self->buffers = PyObject_GetAttrString(outputs, "buffers");
    if (self->buffers == NULL || !PyDict_CheckExact(self->buffers)) {
        PyErr_SetString(PyExc_TypeError, "Splitter: outputs.buffers must be a dict");
        return -1;
    }
    if ((self->key_buffered = PyUnicode_InternFromString("buffered")) == NULL)
        return -1;
    self->mask = (1 << 16) - 1;
    self->seen = PyMem_Calloc(self->mask + 1, sizeof(Digest));
    if (self->seen == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static void Splitter_dealloc(Splitter *self) {
    for (int i = 0; self->rules && i < self->nrules; i++) {
        PyMem_Free(self->rules[i].outer.text);
        PyMem_Free(self->rules[i].inner.text);
        Py_XDECREF(self->rules[i].memo);
        Py_XDECREF(self->rules[i].reader);
    }
    PyMem_Free(self->rules);
    for (int i = 0; i < 8; i++)
        cache_clear(&self->caches[i]);
    free_plan(self->context_plan);
    free_plan(self->struct_plan);
    free_names(self->own_top, self->nown_top);
    free_names(self->struct_types, self->nstruct_types);
    free_names(self->renamed, 2 * self->nrenamed);
    PyObject **objects[] = {&self->module_memo, &self->module_in, &self->routes,       &self->by_course,
                            &self->no_course,   &self->outputs,   &self->pending_file, &self->buffers,
                            &self->key_buffered, &self->i4x_type};
    for (size_t i = 0; i < sizeof objects / sizeof objects[0]; i++)
        Py_CLEAR(*objects[i]);
    PyMem_Free(self->seen);
    PyMem_Free(self->line.nodes);
    PyMem_Free(self->payload.nodes);
    Buffer *buffers[] = {&self->row, &self->extra, &self->unknown, &self->scratch, &self->decoded,
                         &self->payload_text, &self->pending, &self->module};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        PyMem_Free(buffers[i]->data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *Splitter_counts(Splitter *self, PyObject *Py_UNUSED(ignored)) {
    return Py_BuildValue("{s:n,s:n,s:n,s:n,s:n}", "blank", self->blank, "duplicates", self->duplicates, "no_course",
                         self->no_course_count, "filtered_out", self->filtered_out, "lines", self->lines);
}

static PyMethodDef SPLITTER_METHODS[] = {
    {"run", (PyCFunction)Splitter_run, METH_VARARGS,
     "run(block, offset) -> (offset of the first line from offset that is the Python code's, already checked"
     " for blank and duplicate, or len(block) + 1; lines taken before it)"},
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
    draw_keys();
    if (PyType_Ready(&SplitterType) < 0)
        return -1;
    Py_INCREF(&SplitterType);
    if (PyModule_AddObject(module, "Splitter", (PyObject *)&SplitterType) < 0) {
        Py_DECREF(&SplitterType);
        return -1;
    }
    return 0;
}
