# tools/mutate.awk - finds and applies the mutations of tools/mutate.sh.
#
#   awk -v mode=list  -v file=F F                    one line per site:
#       FILE<TAB>LINE<TAB>KIND<TAB>OCC<TAB>DESCRIPTION
#   awk -v mode=apply -v line=L -v kind=K -v occ=O F  the file, mutated
#
# Kinds (occurrence OCC counts the matches of that kind on the line, from 1):
#   cmp     a comparison flipped: < <=, <= <, > >=, >= >, == !=, != ==
#   off1    an off-by-one: " + 1" or " - 1" dropped
#   flush   a flush call replaced by VINF_SUCCESS (the flush never happens)
#   status  a status code swapped: VERR_VD_BLOCK_FREE or VERR_VD_IMAGE_READ_ONLY
#           -> VINF_SUCCESS, VERR_VD_GEN_INVALID_HEADER -> VERR_VD_IMAGE_CORRUPTED,
#           any other `return VERR_X;` -> `return VINF_SUCCESS;`, and so
#           `return VCI_CORRUPT(...);` (ref/vci_corrupt.h: a corruption check
#           that yields VERR_VD_IMAGE_CORRUPTED) -> `return VINF_SUCCESS;`
#   noval   a validation skipped: the `return VERR_X;` or `return
#           VCI_CORRUPT(...);` under an `if` removed
# Comments, preprocessor lines and string or character literals are never
# mutated.

# s with string/char literal contents and comments blanked (same length), so
# scans see only code.  Updates the global in_comment across lines.
function code_of(s,    out, i, c, n, instr, q) {
    out = ""; instr = 0; q = ""
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1); n = substr(s, i + 1, 1)
        if (in_comment) {
            if (c == "*" && n == "/") { in_comment = 0; out = out "  "; i++; continue }
            out = out " "; continue
        }
        if (instr) {
            if (c == "\\") { out = out "  "; i++; continue }
            if (c == q) { instr = 0; out = out c; continue }
            out = out " "; continue
        }
        if (c == "/" && n == "*") { in_comment = 1; out = out "  "; i++; continue }
        if (c == "/" && n == "/") { while (i <= length(s)) { out = out " "; i++ } break }
        if (c == "\"" || c == "'") { instr = 1; q = c; out = out c; continue }
        out = out c
    }
    return out
}

# Finds the sites of kind k in code line s: fills pos[], len[], rep[], desc[];
# returns the count.  orig is the untouched line (for descriptions).
function sites(k, s, prevcode,    n, i, c, nx, pv, op, m, name, j, depth, start, rest) {
    n = 0
    if (k == "cmp") {
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1); nx = substr(s, i + 1, 1); pv = substr(s, i - 1, 1)
            op = ""
            if (c == "<") {
                if (nx == "<") { i++; continue }
                op = (nx == "=") ? "<=" : "<"
            } else if (c == ">") {
                if (pv == "-") continue
                if (nx == ">") { i++; continue }
                op = (nx == "=") ? ">=" : ">"
            } else if (c == "=" && nx == "=") {
                op = "=="
            } else if (c == "!" && nx == "=") {
                op = "!="
            }
            if (op == "") continue
            n++; pos[n] = i; len[n] = length(op)
            rep[n] = (op == "<") ? "<=" : (op == "<=") ? "<" : (op == ">") ? ">=" : (op == ">=") ? ">" : (op == "==") ? "!=" : "=="
            desc[n] = "'" op "' -> '" rep[n] "'"
            i += length(op) - 1
        }
    } else if (k == "off1") {
        for (i = 1; i <= length(s) - 3; i++) {
            op = substr(s, i, 4)
            if (op != " + 1" && op != " - 1") continue
            nx = substr(s, i + 4, 1)
            if (nx ~ /[0-9A-Za-z_.]/) continue
            n++; pos[n] = i; len[n] = 4; rep[n] = ""; desc[n] = "drop '" substr(op, 2) "'"
        }
    } else if (k == "flush") {
        if (s !~ /^[ \t]/) return 0          # a definition, not a call
        rest = s; start = 0
        while (match(rest, /(vci_io_flush|vci_nodes_flush|vci_alloc_flush|vci_cache_flush|pfnFlush)\(/)) {
            i = start + RSTART; name = substr(rest, RSTART, RLENGTH - 1)
            depth = 0
            for (j = i + RLENGTH - 1; j <= length(s); j++) {
                c = substr(s, j, 1)
                if (c == "(") depth++
                else if (c == ")") { depth--; if (depth == 0) break }
            }
            if (depth == 0) {
                # a method call through ->: take the whole io->ioint->pfnFlush chain
                m = i
                while (m > 1 && substr(s, m - 1, 1) ~ /[A-Za-z0-9_>.-]/) m--
                n++; pos[n] = m; len[n] = j - m + 1; rep[n] = "VINF_SUCCESS"
                desc[n] = "drop the " name " call"
            }
            start = i + RLENGTH - 1; rest = substr(s, start + 1)
        }
    } else if (k == "status") {
        rest = s; start = 0
        while (match(rest, /VERR_[A-Z0-9_]+/)) {
            i = start + RSTART; name = substr(rest, RSTART, RLENGTH)
            op = ""
            if (name == "VERR_VD_BLOCK_FREE" || name == "VERR_VD_IMAGE_READ_ONLY") op = "VINF_SUCCESS"
            else if (name == "VERR_VD_GEN_INVALID_HEADER") op = "VERR_VD_IMAGE_CORRUPTED"
            else if (substr(s, 1, i - 1) ~ /return[ \t]+$/ && substr(s, i + RLENGTH, 1) == ";") op = "VINF_SUCCESS"
            if (op != "") { n++; pos[n] = i; len[n] = RLENGTH; rep[n] = op; desc[n] = name " -> " op }
            start = i + RLENGTH - 1; rest = substr(s, start + 1)
        }
        # string contents are blanked in s, so [^;]* stays inside the call
        if (match(s, /return[ \t]+VCI_CORRUPT\([^;]*\);/)) {
            i = RSTART + 6; while (substr(s, i, 1) ~ /[ \t]/) i++
            n++; pos[n] = i; len[n] = RSTART + RLENGTH - 1 - i; rep[n] = "VINF_SUCCESS"
            desc[n] = "VCI_CORRUPT(...) -> VINF_SUCCESS"
        }
    } else if (k == "noval") {
        if (match(s, /return[ \t]+(VERR_[A-Z0-9_]+|VCI_CORRUPT\([^;]*\));/)) {
            if (substr(s, 1, RSTART - 1) ~ /if \(.*\)[ \t]*$/ || (substr(s, 1, RSTART - 1) ~ /^[ \t]*$/ && prevcode ~ /^[ \t]*(\} else )?if \(.*\)[ \t]*$/)) {
                n++; pos[n] = RSTART; len[n] = RLENGTH; rep[n] = "(void)0;"
                desc[n] = "skip the check: drop '" (substr(s, RSTART, RLENGTH) ~ /VCI_CORRUPT/ ? "return VCI_CORRUPT(...);" : substr(s, RSTART, RLENGTH)) "'"
            }
        }
    }
    return n
}

BEGIN { in_comment = 0; split("cmp off1 flush status noval", kinds, " ") }
{
    orig = $0
    was_in = in_comment
    code = code_of(orig)
    skip = (was_in && code ~ /^[ \t]*$/) || orig ~ /^[ \t]*#/
    if (mode == "list") {
        if (!skip)
            for (k = 1; k <= 5; k++) {
                cnt = sites(kinds[k], code, prev)
                for (o = 1; o <= cnt; o++) printf "%s\t%d\t%s\t%d\t%s\n", file, NR, kinds[k], o, desc[o]
            }
    } else {
        if (NR == line && !skip) {
            cnt = sites(kind, code, prev)
            if (occ <= cnt)
                orig = substr(orig, 1, pos[occ] - 1) rep[occ] substr(orig, pos[occ] + len[occ])
        }
        print orig
    }
    if (code !~ /^[ \t]*$/) prev = code
}
