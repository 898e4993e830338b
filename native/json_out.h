/* Writing JSON as orjson writes it, into a growing buffer: shared by the compiled fast paths. */
#ifndef EDXFLOW_JSON_OUT_H
#define EDXFLOW_JSON_OUT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
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
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    char *out = buffer->data + buffer->len;
    *out++ = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        /* eight bytes at a time while none is `"`, `\\` or a control character */
        while (n - i >= 8) {
            uint64_t word, quote, backslash;
            memcpy(&word, text + i, 8);
            quote = word ^ (ones * '"');
            backslash = word ^ (ones * '\\');
            uint64_t special = ((quote - ones) & ~quote & highs) | ((backslash - ones) & ~backslash & highs) |
                               ((word - ones * 0x20) & ~word & highs);
            if (special) { /* the bytes before the first such one, then that one below */
                int plain = __builtin_ctzll(special) >> 3;
                memcpy(out, text + i, plain);
                out += plain;
                i += plain;
                break;
            }
            memcpy(out, &word, 8);
            out += 8;
            i += 8;
        }
        if (i < n)
            out = escaped(out, (unsigned char)text[i++]);
    }
    *out++ = '"';
    buffer->len = out - buffer->data;
}

static inline int is_ascii(const char *text, Py_ssize_t n) {
    Py_ssize_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t word;
        memcpy(&word, text + i, 8);
        if (word & 0x8080808080808080ULL)
            return 0;
    }
    for (; i < n; i++)
        if ((unsigned char)text[i] >= 0x80)
            return 0;
    return 1;
}

#endif
