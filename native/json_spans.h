/* A JSON text read into a flat array of nodes that point into it (no Python objects), for the
   compiled split. It accepts a subset of what orjson accepts and says which side of the line a
   text falls on: J_OK (read, and orjson reads it to the same values), J_BAD (not JSON: orjson
   refuses it too) or J_UNSURE (JSON this reader leaves to Python: escaped or repeated keys,
   integers beyond 64 bits, deep nesting, very many nodes). */
#ifndef EDXFLOW_JSON_SPANS_H
#define EDXFLOW_JSON_SPANS_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "json_out.h" /* plain16 */

enum { J_OBJ, J_ARR, J_STR, J_INT, J_FLOAT, J_TRUE, J_FALSE, J_NULL };
enum { J_OK = 1, J_BAD = 0, J_UNSURE = -1, J_NOMEM = -2 };

#define J_MAX_DEPTH 128
#define J_MAX_MEMBERS 256 /* repeated keys are looked for pairwise */

typedef struct {
    unsigned char type;
    unsigned char escaped; /* J_STR: holds a backslash escape */
    int count;             /* J_OBJ: members, J_ARR: items */
    int first;             /* J_OBJ: first key node, J_ARR: first item (-1: none) */
    int next;              /* the next key (object member) or item (array), -1 at the end */
    const char *start;     /* J_STR: after the quote; else the first byte */
    const char *end;       /* J_STR: the closing quote; else after the last byte */
} Node;

typedef struct {
    Node *nodes;
    int count, cap;
    const char *p, *end;
} Spans;

/* An object member's value: the node after its key (whose subtree follows it). */
#define J_VALUE(key) ((key) + 1)

static inline int j_node(Spans *s, unsigned char type, const char *start) {
    if (s->count == s->cap) {
        int cap = s->cap ? s->cap * 2 : 256;
        if (cap > 1 << 20)
            return J_UNSURE;
        Node *nodes = PyMem_Realloc(s->nodes, sizeof(Node) * cap);
        if (nodes == NULL)
            return J_NOMEM;
        s->nodes = nodes;
        s->cap = cap;
    }
    Node *n = &s->nodes[s->count];
    n->type = type;
    n->escaped = 0;
    n->count = 0;
    n->first = n->next = -1;
    n->start = start;
    n->end = start;
    return s->count++;
}

static void j_space(Spans *s) {
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int j_hex(char c) {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int j_hex4(const char *p) {
    int code = 0;
    for (int i = 0; i < 4; i++) {
        int digit = j_hex(p[i]);
        if (digit < 0)
            return -1;
        code = code * 16 + digit;
    }
    return code;
}

/* The length of the valid UTF-8 sequence at p (a non-ASCII lead byte), 0 if invalid. */
static int j_utf8(const unsigned char *p, const unsigned char *end) {
    unsigned char c = p[0];
    int n;
    unsigned int code;
    if (c >= 0xC2 && c <= 0xDF)
        n = 2, code = c & 0x1F;
    else if (c >= 0xE0 && c <= 0xEF)
        n = 3, code = c & 0x0F;
    else if (c >= 0xF0 && c <= 0xF4)
        n = 4, code = c & 0x07;
    else
        return 0;
    if (end - p < n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        code = code << 6 | (p[i] & 0x3F);
    }
    if ((n == 3 && (code < 0x800 || (code >= 0xD800 && code <= 0xDFFF))) || (n == 4 && (code < 0x10000 || code > 0x10FFFF)))
        return 0;
    return n;
}

/* Nonzero when one of the 8 bytes is `"`, `\\`, a control character or not ASCII. */
static int j_string(Spans *s, int *index) {
    const char *start = ++s->p, *p = s->p, *end = s->end;
    int escaped = 0;
    for (;;) {
        while (end - p >= 16) { /* the plain ASCII bytes, sixteen at a time, up to the first other one */
            int plain = plain16(p, 1);
            p += plain;
            if (plain < 16)
                break;
        }
        if (p >= end)
            return J_BAD;
        unsigned char c = (unsigned char)*p;
        if (c == '"') {
            int i = j_node(s, J_STR, start);
            if (i < 0)
                return i;
            s->nodes[i].end = p;
            s->nodes[i].escaped = (unsigned char)escaped;
            s->p = p + 1;
            *index = i;
            return J_OK;
        }
        if (c < 0x20)
            return J_BAD;
        if (c == '\\') {
            escaped = 1;
            if (p + 1 >= end)
                return J_BAD;
            char e = p[1];
            if (e == 'u') {
                if (end - p < 6)
                    return J_BAD;
                int code = j_hex4(p + 2);
                if (code < 0)
                    return J_BAD;
                p += 6;
                if (code >= 0xDC00 && code <= 0xDFFF)
                    return J_BAD; /* a low surrogate alone */
                if (code >= 0xD800 && code <= 0xDBFF) {
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u')
                        return J_BAD;
                    int low = j_hex4(p + 2);
                    if (low < 0xDC00 || low > 0xDFFF)
                        return J_BAD;
                    p += 6;
                }
            } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
                p += 2;
            } else {
                return J_BAD;
            }
        } else if (c >= 0x80) {
            int n = j_utf8((const unsigned char *)p, (const unsigned char *)end);
            if (n == 0)
                return J_BAD;
            p += n;
        } else {
            p++;
        }
    }
}

static int j_digits(Spans *s) {
    const char *start = s->p;
    while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
        s->p++;
    return (int)(s->p - start);
}

static int j_number(Spans *s, int *index) {
    const char *start = s->p;
    int is_float = 0;
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (j_digits(s) == 0)
        return J_BAD;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        is_float = 1;
        if (j_digits(s) == 0)
            return J_BAD;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        is_float = 1;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (j_digits(s) == 0)
            return J_BAD;
    }
    Py_ssize_t n = s->p - start;
    if (n > 64)
        return J_UNSURE;
    char text[65];
    memcpy(text, start, n);
    text[n] = '\0';
    if (is_float) {
        double value = strtod(text, NULL);
        if (!isfinite(value))
            return J_BAD; /* orjson refuses a number it reads as infinity */
    } else {
        /* orjson reads an integer beyond 64 bits as a float: Python's then */
        int negative = text[0] == '-';
        const char *digits = text + negative;
        size_t len = strlen(digits);
        const char *limit = negative ? "9223372036854775808" : "18446744073709551615";
        if (len > strlen(limit) || (len == strlen(limit) && strcmp(digits, limit) > 0))
            return J_UNSURE;
    }
    int i = j_node(s, is_float ? J_FLOAT : J_INT, start);
    if (i < 0)
        return i;
    s->nodes[i].end = s->p;
    *index = i;
    return J_OK;
}

static int j_literal(Spans *s, const char *word, unsigned char type, int *index) {
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return J_BAD;
    int i = j_node(s, type, s->p);
    if (i < 0)
        return i;
    s->p += n;
    s->nodes[i].end = s->p;
    *index = i;
    return J_OK;
}

static int j_value(Spans *s, int depth, int *index);

static int j_same_key(const Node *a, const Node *b) {
    return a->end - a->start == b->end - b->start && memcmp(a->start, b->start, a->end - a->start) == 0;
}

static int j_container(Spans *s, int depth, int *index) {
    int object = *s->p == '{';
    char close = object ? '}' : ']';
    if (depth >= J_MAX_DEPTH)
        return J_UNSURE;
    int self = j_node(s, object ? J_OBJ : J_ARR, s->p);
    if (self < 0)
        return self;
    s->p++;
    j_space(s);
    int last = -1, result;
    if (s->p < s->end && *s->p == close) {
        s->p++;
        s->nodes[self].end = s->p;
        *index = self;
        return J_OK;
    }
    for (;;) {
        int head;
        if (object) {
            if (s->p >= s->end || *s->p != '"')
                return J_BAD;
            if ((result = j_string(s, &head)) != J_OK)
                return result;
            j_space(s);
            if (s->p >= s->end || *s->p != ':')
                return J_BAD;
            s->p++;
            j_space(s);
            int value;
            if ((result = j_value(s, depth + 1, &value)) != J_OK)
                return result;
        } else if ((result = j_value(s, depth + 1, &head)) != J_OK) {
            return result;
        }
        if (last < 0)
            s->nodes[self].first = head;
        else
            s->nodes[last].next = head;
        last = head;
        s->nodes[self].count++;
        j_space(s);
        if (s->p >= s->end)
            return J_BAD;
        if (*s->p == close)
            break;
        if (*s->p != ',')
            return J_BAD;
        s->p++;
        j_space(s);
    }
    s->p++;
    s->nodes[self].end = s->p;
    if (object) {
        /* repeated or escaped keys: Python's (its dict keeps the last value at the first place) */
        Node *nodes = s->nodes;
        if (nodes[self].count > J_MAX_MEMBERS)
            return J_UNSURE;
        for (int k = nodes[self].first; k >= 0; k = nodes[k].next) {
            if (nodes[k].escaped)
                return J_UNSURE;
            for (int other = nodes[k].next; other >= 0; other = nodes[other].next)
                if (j_same_key(&nodes[k], &nodes[other]))
                    return J_UNSURE;
        }
    }
    *index = self;
    return J_OK;
}

static int j_value(Spans *s, int depth, int *index) {
    /* `p` alone, in an 8-byte load: the compiler would read it with its neighbour in one 16-byte
       load, which waits for the 8-byte store of `p` just before (a quarter of this function's time). */
    const char *p = __atomic_load_n(&s->p, __ATOMIC_RELAXED);
    if (p >= s->end)
        return J_BAD;
    switch (*p) {
    case '{':
    case '[': return j_container(s, depth, index);
    case '"': return j_string(s, index);
    case 't': return j_literal(s, "true", J_TRUE, index);
    case 'f': return j_literal(s, "false", J_FALSE, index);
    case 'n': return j_literal(s, "null", J_NULL, index);
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return j_number(s, index);
        return J_BAD;
    }
}

/* Read a whole text (nodes from index 0 of a cleared `s`): J_OK, J_BAD, J_UNSURE, or J_NOMEM
   (a Python MemoryError set). */
static int j_parse(Spans *s, const char *text, Py_ssize_t n) {
    s->count = 0;
    s->p = text;
    s->end = text + n;
    j_space(s);
    int root, result = j_value(s, 0, &root);
    if (result == J_NOMEM)
        PyErr_NoMemory();
    if (result != J_OK)
        return result;
    j_space(s);
    return s->p == s->end ? J_OK : J_BAD;
}

/* The value of an object's member with this (unescaped) name, or -1. */
static int j_member(const Spans *s, int object, const char *name, Py_ssize_t n) {
    if (object < 0 || s->nodes[object].type != J_OBJ)
        return -1;
    for (int k = s->nodes[object].first; k >= 0; k = s->nodes[k].next)
        if (s->nodes[k].end - s->nodes[k].start == n && memcmp(s->nodes[k].start, name, n) == 0)
            return J_VALUE(k);
    return -1;
}

#define J_MEMBER(s, object, name) j_member(s, object, name, sizeof(name) - 1)

#endif
