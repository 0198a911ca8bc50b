/*
 * harness/conformance/tests/test_conf_coverage.c - clause coverage
 * (coverage.h): the contract's markers are found (and only they), counts
 * add up, and every entry of the exemption table names a clause the real
 * spec/contract.md defines (so the table cannot go stale silently).
 * Run from the repository root (tests/run does).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../../tests/check.h"
#include "../coverage.h"

static const char contract[] = "# A contract\n"
                               "- **READ-1 MUST.** On success ...\n"
                               "- **READ-2a SHOULD.** A miss ...\n"
                               "Some **bold text** and **NOT-A MUST.** and **X-3 MAY.** are no markers,\n"
                               "nor is **lower-1 MUST.** or **Y-4 MUST**.\n"
                               "- **HOST-12 MUST.** last";

static void test_parse(void)
{
    vdc_clause_list l;
    char err[256];
    REQUIRE(vdc_contract_parse(contract, strlen(contract), &l, err, sizeof err) == VINF_SUCCESS);
    CHECK_EQ(l.n, 3);
    if (l.n == 3) {
        CHECK(strcmp(l.v[0].name, "READ-1") == 0 && l.v[0].must);
        CHECK(strcmp(l.v[1].name, "READ-2a") == 0 && !l.v[1].must);
        CHECK(strcmp(l.v[2].name, "HOST-12") == 0 && l.v[2].must);
    }
    CHECK(vdc_clause_note(&l, "READ-2a", 4));
    CHECK(vdc_clause_note(&l, "READ-2a", 9));
    CHECK(!vdc_clause_note(&l, "READ-3", 1));
    vdc_clause *c = vdc_clause_find(&l, "READ-2a");
    CHECK(c != NULL && c->ntraces == 2 && c->first_traces[0] == 4 && c->first_traces[1] == 9);
    c = vdc_clause_find(&l, "READ-1");
    CHECK(c != NULL && c->ntraces == 0);
    vdc_clauses_free(&l);

    /* A marker cut at the end of the text is no marker. */
    const char cut[] = "**READ-1 MUST.*";
    CHECK_EQ(vdc_contract_parse(cut, strlen(cut), &l, err, sizeof err), VERR_INVALID_PARAMETER);
    const char dup[] = "**A-1 MUST.** and **A-1 SHOULD.**";
    CHECK_EQ(vdc_contract_parse(dup, strlen(dup), &l, err, sizeof err), VERR_INVALID_PARAMETER);
    CHECK(strstr(err, "A-1") != NULL);
    CHECK_EQ(vdc_contract_parse("", 0, &l, err, sizeof err), VERR_INVALID_PARAMETER);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 20);
    size_t n = buf != NULL ? fread(buf, 1, 1 << 20, f) : 0;
    fclose(f);
    *len = n;
    return buf;
}

static void test_exemptions_name_real_clauses(void)
{
    size_t len = 0;
    char *text = slurp("spec/contract.md", &len);
    REQUIRE(text != NULL);
    vdc_clause_list l;
    char err[256];
    REQUIRE(vdc_contract_parse(text, len, &l, err, sizeof err) == VINF_SUCCESS);
    CHECK(l.n >= 40);
    unsigned n = 0;
    for (const vdc_cover_exempt *x; (x = vdc_cover_exempt_at(n)) != NULL; n++) {
        CHECK(vdc_clause_find(&l, x->clause) != NULL);
        CHECK(x->by != NULL && x->why != NULL && strlen(x->why) > 20);
        CHECK(vdc_cover_exempt_find(x->clause) == x);
    }
    CHECK(n >= 1 && n <= 5); /* explicit and short: crashes, faults, allocations, the format on disk */
    CHECK(vdc_cover_exempt_find("READ-1") == NULL);
    vdc_clauses_free(&l);
    free(text);
}

CHECK_MAIN(CHECK_CASE(test_parse), CHECK_CASE(test_exemptions_name_real_clauses))
