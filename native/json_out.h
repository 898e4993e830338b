/* Writing JSON as orjson writes it, into a growing buffer: shared by the compiled fast paths. */
#ifndef EDXFLOW_JSON_OUT_H
#define EDXFLOW_JSON_OUT_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

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

/* How many of the 16 bytes at `text` come before the first `"`, `\\` or control character (with
   `high`: or byte of 0x80 and above); 16 when none is. */
static inline int plain16(const char *text, int high) {
#ifdef __SSE2__
    __m128i v = _mm_loadu_si128((const __m128i *)text);
    __m128i quotes = _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\\')));
    __m128i low = high ? _mm_cmplt_epi8(v, _mm_set1_epi8(0x20)) /* signed: 0x80 and above too */
                       : _mm_cmpeq_epi8(_mm_max_epu8(v, _mm_set1_epi8(0x1f)), _mm_set1_epi8(0x1f));
    unsigned mask = (unsigned)_mm_movemask_epi8(_mm_or_si128(quotes, low));
    return mask ? __builtin_ctz(mask) : 16;
#else
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    for (int half = 0; half < 16; half += 8) {
        uint64_t word, quote, backslash;
        memcpy(&word, text + half, 8);
        quote = word ^ (ones * '"');
        backslash = word ^ (ones * '\\');
        uint64_t special = ((quote - ones) & ~quote & highs) | ((backslash - ones) & ~backslash & highs) |
                           ((word - ones * 0x20) & ~word & highs) | (high ? word & highs : 0);
        if (special)
            return half + (__builtin_ctzll(special) >> 3);
    }
    return 16;
#endif
}

/* A JSON string of `n` bytes: at most 6 bytes out per byte in, plus 2. */
static inline void put_string(Buffer *buffer, const char *text, Py_ssize_t n) {
    char *out = buffer->data + buffer->len;
    *out++ = '"';
    Py_ssize_t i = 0;
    while (i < n) {
        /* sixteen bytes at a time (stored whole: the room is there) up to the first to escape */
        while (n - i >= 16) {
            int plain = plain16(text + i, 0);
            memcpy(out, text + i, 16);
            out += plain;
            i += plain;
            if (plain < 16)
                break;
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
