/* Writing JSON as orjson writes it, into a growing buffer: shared by the compiled fast paths. */
#ifndef EDXFLOW_JSON_OUT_H
#define EDXFLOW_JSON_OUT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    char *data;
    Py_ssize_t len, cap;
} Buffer;

static inline int reserve(Buffer *buffer, Py_ssize_t extra) {
    if (buffer->len + extra <= buffer->cap)
        return 0;
    Py_ssize_t cap = buffer->cap ? buffer->cap : 1 << 16;
    while (cap < buffer->len + extra)
        cap *= 2;
    char *data = PyMem_Realloc(buffer->data, cap);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->cap = cap;
    return 0;
}

/* Callers reserve room for a whole row first, so the writers below do not check. */
static inline void put(Buffer *buffer, const char *text, Py_ssize_t n) {
    memcpy(buffer->data + buffer->len, text, n);
    buffer->len += n;
}

#define PUT_LITERAL(buffer, text) put(buffer, text, sizeof(text) - 1)

static const char HEX[] __attribute__((unused)) = "0123456789abcdef";

/* One byte of a JSON string as orjson writes it: `"` and `\` escaped, control characters as short
   escapes or \u00xx, everything else (UTF-8 included) as it is; at most 6 bytes. */
static inline char *escaped(char *out, unsigned char c) {
    if (c >= 0x20 && c != '"' && c != '\\') {
        *out++ = (char)c;
        return out;
    }
    *out++ = '\\';
    switch (c) {
    case '"': *out++ = '"'; break;
    case '\\': *out++ = '\\'; break;
    case '\b': *out++ = 'b'; break;
    case '\f': *out++ = 'f'; break;
    case '\n': *out++ = 'n'; break;
    case '\r': *out++ = 'r'; break;
    case '\t': *out++ = 't'; break;
    default:
        *out++ = 'u'; *out++ = '0'; *out++ = '0';
        *out++ = HEX[c >> 4]; *out++ = HEX[c & 15];
    }
    return out;
}

/* A JSON string of `n` bytes: at most 6 bytes out per byte in, plus 2. */
static inline void put_string(Buffer *buffer, const char *text, Py_ssize_t n) {
    char *out = buffer->data + buffer->len;
    *out++ = '"';
    for (Py_ssize_t i = 0; i < n; i++)
        out = escaped(out, (unsigned char)text[i]);
    *out++ = '"';
    buffer->len = out - buffer->data;
}

#endif
