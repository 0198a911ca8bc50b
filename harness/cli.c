/*
 * harness/cli.c - option scanning, strict number and size parsing, output
 * checks and messages for vdcc's subcommands.  Contract: cli.h.  No state beyond the caller's
 * vdc_optstate; nothing here allocates.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void vdc_opt_init(vdc_optstate *st, const char *cmd, int argc, char **argv)
{
    st->argc = argc;
    st->argv = argv;
    st->i = 1;
    st->operands_only = false;
    st->cmd = cmd;
}

static const vdc_opt *find_long(const vdc_opt *opts, const char *name, size_t len)
{
    for (const vdc_opt *o = opts; o->id != 0; o++)
        if (o->long_name != NULL && strlen(o->long_name) == len && strncmp(o->long_name, name, len) == 0)
            return o;
    return NULL;
}

static const vdc_opt *find_short(const vdc_opt *opts, char c)
{
    for (const vdc_opt *o = opts; o->id != 0; o++)
        if (o->short_name != 0 && o->short_name == c)
            return o;
    return NULL;
}

int vdc_opt_next(vdc_optstate *st, const vdc_opt *opts, const char **val)
{
    *val = NULL;
    if (st->i >= st->argc)
        return VDC_OPT_END;
    const char *a = st->argv[st->i++];
    if (st->operands_only || a[0] != '-' || a[1] == '\0') {
        *val = a;
        return VDC_OPT_OPERAND;
    }
    if (strcmp(a, "--") == 0) {
        st->operands_only = true;
        return vdc_opt_next(st, opts, val);
    }
    const vdc_opt *o;
    const char *inline_val = NULL;
    if (a[1] == '-') {
        const char *name = a + 2;
        const char *eq = strchr(name, '=');
        size_t len = eq != NULL ? (size_t)(eq - name) : strlen(name);
        o = find_long(opts, name, len);
        if (o == NULL) {
            vdc_usage_error(st->cmd, "unknown option '--%.*s'", (int)len, name);
            return VDC_OPT_ERROR;
        }
        if (eq != NULL) {
            if (!o->has_arg) {
                vdc_usage_error(st->cmd, "option '--%s' takes no value", o->long_name);
                return VDC_OPT_ERROR;
            }
            inline_val = eq + 1;
        }
    } else {
        o = find_short(opts, a[1]);
        if (o == NULL) {
            vdc_usage_error(st->cmd, "unknown option '-%c'", a[1]);
            return VDC_OPT_ERROR;
        }
        if (a[2] != '\0') {
            if (!o->has_arg) {
                vdc_usage_error(st->cmd, "unknown option '%s'", a);
                return VDC_OPT_ERROR;
            }
            inline_val = a + 2;
        }
    }
    if (o->has_arg) {
        if (inline_val == NULL) {
            if (st->i >= st->argc) {
                vdc_usage_error(st->cmd, "option '%s' needs a value", a);
                return VDC_OPT_ERROR;
            }
            inline_val = st->argv[st->i++];
        }
        *val = inline_val;
    }
    return o->id;
}

static void vmsg(const char *cmd, const char *fmt, va_list va)
{
    if (cmd != NULL && *cmd != '\0')
        fprintf(stderr, "vdcc %s: ", cmd);
    else
        fputs("vdcc: ", stderr);
    vfprintf(stderr, fmt, va);
    fputc('\n', stderr);
}

void vdc_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    vmsg(cmd, fmt, va);
    va_end(va);
    if (cmd != NULL && *cmd != '\0')
        fprintf(stderr, "Try 'vdcc %s --help'.\n", cmd);
    else
        fputs("Try 'vdcc --help'.\n", stderr);
}

void vdc_error(const char *cmd, const char *fmt, ...)
{
    va_list va;
    va_start(va, fmt);
    vmsg(cmd, fmt, va);
    va_end(va);
}

/* Digits only, no overflow.  *end gets the first non-digit. */
static bool scan_digits(const char *s, uint64_t *out, const char **end)
{
    uint64_t v = 0;
    const char *p = s;
    if (*p < '0' || *p > '9')
        return false;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned dgt = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - dgt) / 10)
            return false;
        v = v * 10 + dgt;
    }
    *out = v;
    *end = p;
    return true;
}

bool vdc_parse_uint(const char *cmd, const char *what, const char *s, uint64_t min, uint64_t max,
                    uint64_t *out)
{
    uint64_t v;
    const char *end;
    if (s == NULL || !scan_digits(s, &v, &end) || *end != '\0') {
        vdc_usage_error(cmd, "%s: '%s' is not a whole number (%llu..%llu)", what, s != NULL ? s : "",
                        (unsigned long long)min, (unsigned long long)max);
        return false;
    }
    if (v < min || v > max) {
        vdc_usage_error(cmd, "%s: %s is out of range (%llu..%llu)", what, s, (unsigned long long)min,
                        (unsigned long long)max);
        return false;
    }
    *out = v;
    return true;
}

bool vdc_parse_seconds(const char *cmd, const char *what, const char *s, uint64_t min_ms, uint64_t max_ms,
                       uint64_t *out_ms)
{
    uint64_t whole, ms = 0;
    const char *end;
    bool ok = s != NULL && scan_digits(s, &whole, &end);
    if (ok && *end == '.') {
        const char *f = end + 1;
        unsigned n = 0;
        uint64_t frac = 0;
        while (f[n] >= '0' && f[n] <= '9' && n < 3) {
            frac = frac * 10 + (uint64_t)(f[n] - '0');
            n++;
        }
        ok = n > 0 && f[n] == '\0';
        while (n++ < 3)
            frac *= 10;
        ms = frac;
    } else if (ok) {
        ok = *end == '\0';
    }
    if (ok && whole > (UINT64_MAX - ms) / 1000)
        ok = false;
    if (!ok) {
        vdc_usage_error(cmd, "%s: '%s' is not a number of seconds (e.g. 10 or 2.5)", what, s != NULL ? s : "");
        return false;
    }
    uint64_t v = whole * 1000 + ms;
    if (v < min_ms || v > max_ms) {
        vdc_usage_error(cmd, "%s: %s s is out of range (%llu.%03llu..%llu s)", what, s,
                        (unsigned long long)(min_ms / 1000), (unsigned long long)(min_ms % 1000),
                        (unsigned long long)(max_ms / 1000));
        return false;
    }
    *out_ms = v;
    return true;
}

/* "1.5 GiB"-style text of a byte count, for range messages: exact when
 * it is a whole number of the largest unit that divides it. */
static void size_text(uint64_t v, char *buf, size_t cb)
{
    static const char units[] = "KMGT";
    int u = -1;
    while (u < 3 && v != 0 && v % 1024 == 0) {
        v /= 1024;
        u++;
    }
    if (u < 0)
        snprintf(buf, cb, "%llu", (unsigned long long)v);
    else
        snprintf(buf, cb, "%llu%c", (unsigned long long)v, units[u]);
}

bool vdc_parse_size(const char *cmd, const char *what, const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    uint64_t v;
    const char *end;
    char lo[32], hi[32];
    size_text(min, lo, sizeof lo);
    size_text(max, hi, sizeof hi);
    if (s == NULL || !scan_digits(s, &v, &end)) {
        vdc_usage_error(cmd, "%s: '%s' is not a size (e.g. 512, 64K, 8G; %s..%s)", what, s != NULL ? s : "", lo, hi);
        return false;
    }
    unsigned shift = 0;
    const char *p = strchr("KkMmGgTt", *end != '\0' ? *end : '!');
    if (p != NULL) {
        shift = 10u * (unsigned)((p - "KkMmGgTt") / 2 + 1);
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
    }
    if (*end == 'B' && shift != 0)
        end++;
    if (*end != '\0') {
        vdc_usage_error(cmd, "%s: '%s' is not a size (e.g. 512, 64K, 8G; %s..%s)", what, s, lo, hi);
        return false;
    }
    if ((shift != 0 && v > (UINT64_MAX >> shift)) || (v << shift) < min || (v << shift) > max) {
        vdc_usage_error(cmd, "%s: %s is out of range (%s..%s)", what, s, lo, hi);
        return false;
    }
    *out = v << shift;
    return true;
}

bool vdc_check_output(const char *cmd, const char *option, const char *path, bool dir)
{
    if (path == NULL)
        return true;
    if (path[0] == '\0') {
        vdc_usage_error(cmd, "%s: an empty path", option);
        return false;
    }
    if (dir) {
        struct stat st;
        if (mkdir(path, 0777) != 0 && errno != EEXIST) {
            vdc_error(cmd, "%s %s: cannot create it: %s", option, path, strerror(errno));
            return false;
        }
        if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) {
            vdc_error(cmd, "%s %s: not a directory", option, path);
            return false;
        }
        if (access(path, W_OK | X_OK) != 0) {
            vdc_error(cmd, "%s %s: %s", option, path, strerror(errno));
            return false;
        }
        return true;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) {
        vdc_error(cmd, "%s %s: cannot write it: %s", option, path, strerror(errno));
        return false;
    }
    close(fd);
    return true;
}

void vdc_shell_quote(const char *s, char *buf, size_t cb)
{
    if (cb == 0)
        return;
    bool plain = *s != '\0';
    for (const char *p = s; *p && plain; p++)
        plain = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:=,@%", *p) != NULL;
    size_t n = 0;
    if (plain) {
        snprintf(buf, cb, "%s", s);
        return;
    }
    if (cb < 3) {
        buf[0] = '\0';
        return;
    }
    /* '...' with each ' written as '\'' */
    buf[n++] = '\'';
    for (const char *p = s; *p != '\0' && n + 6 < cb; p++) {
        if (*p == '\'') {
            memcpy(buf + n, "'\\''", 4);
            n += 4;
        } else {
            buf[n++] = *p;
        }
    }
    if (n + 1 < cb)
        buf[n++] = '\'';
    buf[n] = '\0';
}
