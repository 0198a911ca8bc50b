/*
 * harness/trace/trace_lex.c - lexical layer of the trace format.
 *
 * Contract: trace_int.h, "lexer".  Implements spec/trace-format.md section 2:
 * splitting a line into tokens, and decoding numbers, statuses, flag sets,
 * strings, names and UUID literals.  Every function reads only the bytes it
 * is given (no NUL terminator is assumed), allocates nothing, and reports
 * failure by returning false (or -1) instead of guessing.
 */
#include "trace_int.h"

#include <string.h>

#include "../host/status.h"

static bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool is_alpha(char c)
{
    return is_lower(c) || is_upper(c);
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int vdc_lex_line(const char *line, size_t len, vdc_tok *toks, int max, const char **why)
{
    int n = 0;
    size_t i = 0;

    /* Control bytes are refused anywhere, comments included. */
    for (size_t k = 0; k < len; k++) {
        unsigned char c = (unsigned char)line[k];
        if ((c < 0x20 && c != '\t') || c == 0x7f) {
            *why = c == 0 ? "NUL byte in line" : "control byte in line";
            return -1;
        }
    }
    while (i < len) {
        while (i < len && is_blank(line[i]))
            i++;
        if (i >= len || line[i] == '#')
            break;
        size_t start = i;
        bool in_str = false;
        while (i < len && (in_str || !is_blank(line[i]))) {
            unsigned char c = (unsigned char)line[i];
            if (c >= 0x80) {
                *why = "byte >= 0x80 outside a comment";
                return -1;
            }
            if (in_str && c == '\\') {
                i += 2;
                continue;
            }
            if (c == '"')
                in_str = !in_str;
            i++;
        }
        if (in_str || i > len) {
            *why = "unterminated string";
            return -1;
        }
        if (n >= max) {
            *why = "too many tokens on one line";
            return -1;
        }
        toks[n].p = line + start;
        toks[n].n = i - start;
        n++;
    }
    return n;
}

bool vdc_lex_u64(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    size_t i = 0;
    unsigned shift = 0;

    if (n == 0)
        return false;
    switch (s[n - 1]) {
    case 'K': shift = 10; n--; break;
    case 'M': shift = 20; n--; break;
    case 'G': shift = 30; n--; break;
    case 'T': shift = 40; n--; break;
    default: break;
    }
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        i = 2;
        if (n == 2)
            return false;
        for (; i < n; i++) {
            int h = hex_val(s[i]);
            if (h < 0 || v > (UINT64_MAX >> 4))
                return false;
            v = (v << 4) | (uint64_t)h;
        }
    } else {
        if (n == 0)
            return false;
        for (; i < n; i++) {
            if (!is_digit(s[i]))
                return false;
            uint64_t d = (uint64_t)(s[i] - '0');
            if (v > (UINT64_MAX - d) / 10)
                return false;
            v = v * 10 + d;
        }
    }
    if (shift != 0 && v > (UINT64_MAX >> shift))
        return false;
    *out = v << shift;
    return true;
}

bool vdc_lex_status(const char *s, size_t n, int *out)
{
    char name[64];

    if (n == 0)
        return false;
    if (n == 2 && memcmp(s, "OK", 2) == 0) {
        *out = VINF_SUCCESS;
        return true;
    }
    if (s[0] == '-' || is_digit(s[0])) {
        bool neg = s[0] == '-';
        size_t i = neg ? 1 : 0;
        int64_t v = 0;
        if (i >= n)
            return false;
        for (; i < n; i++) {
            if (!is_digit(s[i]))
                return false;
            v = v * 10 + (s[i] - '0');
            if (v > (int64_t)INT32_MAX + 1)
                return false;
        }
        if (neg)
            v = -v;
        if (v > INT32_MAX || v < INT32_MIN)
            return false;
        *out = (int)v;
        return true;
    }
    if (n >= sizeof name)
        return false;
    memcpy(name, s, n);
    name[n] = '\0';
    return vdc_status_from_name(name, out) == VINF_SUCCESS;
}

bool vdc_lex_flags(vdc_flagset fs, const char *s, size_t n, uint64_t *out)
{
    const char *zero = NULL;
    const vdc_flag_name *names = vdc_flag_names(fs, &zero);
    uint64_t v = 0;
    size_t i = 0;

    if (names == NULL || n == 0)
        return false;
    while (i <= n) {
        size_t j = i;
        while (j < n && s[j] != '|')
            j++;
        const char *w = s + i;
        size_t wn = j - i;
        bool found = false;
        if (wn == 0)
            return false;
        if (zero != NULL && strlen(zero) == wn && memcmp(zero, w, wn) == 0) {
            found = true;
        } else if (is_digit(w[0])) {
            uint64_t num;
            if (!vdc_lex_u64(w, wn, &num))
                return false;
            v |= num;
            found = true;
        } else {
            for (const vdc_flag_name *f = names; f->name != NULL; f++) {
                if (strlen(f->name) == wn && memcmp(f->name, w, wn) == 0) {
                    v |= f->bit;
                    found = true;
                    break;
                }
            }
        }
        if (!found)
            return false;
        i = j + 1;
    }
    if (fs != VDC_FS_CAPS && v > UINT32_MAX)
        return false;
    *out = v;
    return true;
}

bool vdc_lex_string(const char *s, size_t n, char *buf, size_t cb, size_t *outlen, bool *is_null, const char **why)
{
    size_t o = 0;

    *is_null = false;
    if (n == 4 && memcmp(s, "null", 4) == 0) {
        *is_null = true;
        *outlen = 0;
        if (cb > 0)
            buf[0] = '\0';
        return true;
    }
    if (n < 2 || s[0] != '"' || s[n - 1] != '"') {
        *why = "expected a quoted string or null";
        return false;
    }
    for (size_t i = 1; i + 1 < n; i++) {
        char c = s[i];
        if (c == '"') {
            *why = "unescaped '\"' inside a string";
            return false;
        }
        if (c == '\\') {
            if (i + 2 >= n) {
                *why = "bad escape at the end of a string";
                return false;
            }
            char e = s[i + 1];
            if (e == '\\' || e == '"') {
                c = e;
                i += 1;
            } else if (e == 'x') {
                if (i + 4 >= n) {
                    *why = "short \\x escape";
                    return false;
                }
                int h1 = hex_val(s[i + 2]), h2 = hex_val(s[i + 3]);
                if (h1 < 0 || h2 < 0) {
                    *why = "bad \\x escape";
                    return false;
                }
                c = (char)(h1 * 16 + h2);
                if (c == 0) {
                    *why = "\\x00 is not allowed in a string";
                    return false;
                }
                i += 3;
            } else {
                *why = "unknown escape in a string";
                return false;
            }
        }
        if (o >= VDC_TRACE_MAX_STRING || o + 1 >= cb) {
            *why = "string longer than 4096 bytes";
            return false;
        }
        buf[o++] = c;
    }
    buf[o] = '\0';
    *outlen = o;
    return true;
}

bool vdc_lex_is_handle(const char *s, size_t n)
{
    if (n == 0 || n > VDC_TRACE_MAX_NAME || !(is_alpha(s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_'))
            return false;
    if ((n == 6 && memcmp(s, "delete", 6) == 0) || (n == 4 && memcmp(s, "fill", 4) == 0)
        || (n == 4 && memcmp(s, "null", 4) == 0))
        return false;
    return true;
}

bool vdc_lex_is_file(const char *s, size_t n)
{
    if (n == 0 || n > VDC_TRACE_MAX_NAME || !(is_alpha(s[0]) || is_digit(s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true; /* "." and ".." cannot pass the first-character rule */
}

bool vdc_lex_is_var(const char *s, size_t n)
{
    if (n == 0 || n > VDC_TRACE_MAX_NAME)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_'))
            return false;
    return true;
}

bool vdc_lex_is_clause(const char *s, size_t n)
{
    size_t i = 0;
    if (n == 0 || n > VDC_TRACE_MAX_NAME || !is_upper(s[0]))
        return false;
    while (i < n && (is_upper(s[i]) || is_digit(s[i])))
        i++;
    if (i >= n || s[i] != '-')
        return false;
    i++;
    size_t d = i;
    while (i < n && is_digit(s[i]))
        i++;
    if (i == d)
        return false;
    if (i < n && is_lower(s[i]))
        i++;
    return i == n;
}

bool vdc_lex_is_key(const char *s, size_t n)
{
    if (n == 0 || n > VDC_TRACE_MAX_NAME || !is_alpha(s[0]))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || s[i] == '_'))
            return false;
    return true;
}

bool vdc_lex_is_tracename(const char *s, size_t n)
{
    if (n == 0 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(is_alpha(s[i]) || is_digit(s[i]) || strchr("_.:/+-", s[i]) != NULL) || s[i] == '\0')
            return false;
    return true;
}

bool vdc_lex_uuid(const char *s, size_t n, RTUUID *out)
{
    RTUUID u;
    unsigned b = 0;

    if (n != 36)
        return false;
    for (size_t i = 0; i < 36;) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (s[i] != '-')
                return false;
            i++;
            continue;
        }
        int h1 = hex_val(s[i]), h2 = hex_val(s[i + 1]);
        if (h1 < 0 || h2 < 0)
            return false;
        u.au8[b++] = (uint8_t)(h1 * 16 + h2);
        i += 2;
    }
    *out = u;
    return true;
}
