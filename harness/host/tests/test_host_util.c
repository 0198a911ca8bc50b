/*
 * harness/host/tests/test_host_util.c - status names (status.h) and UUIDs
 * (uuid.h).  The status table is checked against spec/vdcache.h itself,
 * parsed at run time (tests run from the repository root), so a code added
 * to the header without a name fails here.
 */
#include <ctype.h>

#include "harness/host/status.h"
#include "harness/host/tests/fixture.h"
#include "harness/host/uuid.h"

static void test_status_known(void)
{
    CHECK(strcmp(vdc_status_name(VINF_SUCCESS), "VINF_SUCCESS") == 0);
    CHECK(strcmp(vdc_status_name(VERR_VD_BLOCK_FREE), "VERR_VD_BLOCK_FREE") == 0);
    CHECK(strcmp(vdc_status_name(VERR_EOF), "VERR_EOF") == 0);
    CHECK(strcmp(vdc_status_name(VINF_EOF), "VINF_EOF") == 0);
    CHECK(strcmp(vdc_status_name(VERR_VCI_NO_BLOCKS_FREE), "VERR_VCI_NO_BLOCKS_FREE") == 0);
    CHECK(strcmp(vdc_status_name(VERR_VD_GEN_INVALID_HEADER), "VERR_VD_GEN_INVALID_HEADER") == 0);
    CHECK(vdc_status_name(-9999) == NULL);
    CHECK(vdc_status_name(1) == NULL);
    int rc = 12345;
    CHECK_EQ(vdc_status_from_name("VERR_DISK_FULL", &rc), VINF_SUCCESS);
    CHECK_EQ(rc, VERR_DISK_FULL);
    CHECK_EQ(vdc_status_from_name("VINF_VD_NEW_ZEROED_BLOCK", &rc), VINF_SUCCESS);
    CHECK_EQ(rc, VINF_VD_NEW_ZEROED_BLOCK);
    rc = 12345;
    CHECK_EQ(vdc_status_from_name("verr_disk_full", &rc), VERR_NOT_FOUND);
    CHECK_EQ(vdc_status_from_name("VERR_DISK_FUL", &rc), VERR_NOT_FOUND);
    CHECK_EQ(vdc_status_from_name("", &rc), VERR_NOT_FOUND);
    CHECK_EQ(vdc_status_from_name(NULL, &rc), VERR_NOT_FOUND);
    CHECK_EQ(vdc_status_from_name("VERR_EOF", NULL), VERR_NOT_FOUND);
    CHECK_EQ(rc, 12345);
}

/* Every "#define VERR_x (value)" / "#define VINF_x value" of the header. */
static void test_status_covers_header(void)
{
    FILE *f = fopen("spec/vdcache.h", "r");
    if (f == NULL) {
        fprintf(stderr, "  cannot open spec/vdcache.h: run from the repository root\n");
        REQUIRE(f != NULL);
    }
    char line[256];
    int codes = 0, values[128];
    while (fgets(line, sizeof line, f) != NULL) {
        char name[64];
        long value;
        if (sscanf(line, "#define %63s", name) != 1)
            continue;
        if (strncmp(name, "VERR_", 5) != 0 && strncmp(name, "VINF_", 5) != 0)
            continue;
        const char *p = line + strlen("#define ") + strlen(name);
        while (*p == ' ' || *p == '(')
            p++;
        if (sscanf(p, "%ld", &value) != 1) {
            CHECK(!"a status define without a number");
            continue;
        }
        codes++;
        const char *got = vdc_status_name((int)value);
        if (got == NULL || strcmp(got, name) != 0) {
            fprintf(stderr, "  %s (%ld) is named %s\n", name, value, got != NULL ? got : "(none)");
            CHECK(!"status name mismatch");
        }
        int rc = 0;
        CHECK_EQ(vdc_status_from_name(name, &rc), VINF_SUCCESS);
        CHECK_EQ(rc, value);
        for (int i = 0; i < codes - 1 && i < 128; i++)
            CHECK(values[i] != (int)value); /* values are distinct */
        if (codes <= 128)
            values[codes - 1] = (int)value;
    }
    fclose(f);
    CHECK_EQ(codes, 72);
}

static void test_uuid_byte_order(void)
{
    RTUUID u;
    memset(&u, 0xAA, sizeof u);
    CHECK_EQ(vdc_uuid_parse("00112233-4455-6677-8899-aabbccddeeff", &u), VINF_SUCCESS);
    for (int i = 0; i < 16; i++)
        CHECK_EQ(u.au8[i], i * 0x11);
    char s[VDC_UUID_STR_LEN + 1];
    vdc_uuid_format(&u, s);
    CHECK(strcmp(s, "00112233-4455-6677-8899-aabbccddeeff") == 0);
    /* Upper case is accepted, output is lower case. */
    CHECK_EQ(vdc_uuid_parse("A1B2C3D4-E5F6-0718-293A-4B5C6D7E8F90", &u), VINF_SUCCESS);
    CHECK_EQ(u.au8[0], 0xA1);
    CHECK_EQ(u.au8[15], 0x90);
    vdc_uuid_format(&u, s);
    CHECK(strcmp(s, "a1b2c3d4-e5f6-0718-293a-4b5c6d7e8f90") == 0);
}

static void test_uuid_parse_rejects(void)
{
    RTUUID u, before;
    memset(&u, 0x5C, sizeof u);
    before = u;
    static const char *const bad[] = {
        "",
        "00112233-4455-6677-8899-aabbccddeef",   /* short */
        "00112233-4455-6677-8899-aabbccddeeff0", /* long */
        "00112233-4455-6677-8899-aabbccddeefg",  /* not hex */
        "001122334-455-6677-8899-aabbccddeeff",  /* dash misplaced */
        "{00112233-4455-6677-8899-aabbccddeeff}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_EQ(vdc_uuid_parse(bad[i], &u), VERR_INVALID_PARAMETER);
    CHECK(memcmp(&u, &before, sizeof u) == 0);
    CHECK_EQ(vdc_uuid_parse(NULL, &u), VERR_INVALID_PARAMETER);
    CHECK_EQ(vdc_uuid_parse("00112233-4455-6677-8899-aabbccddeeff", NULL), VERR_INVALID_PARAMETER);
}

static void test_uuid_generate(void)
{
    RTUUID a, b, back;
    char s[VDC_UUID_STR_LEN + 1];
    vdc_uuid_generate(&a);
    vdc_uuid_generate(&b);
    CHECK(memcmp(&a, &b, sizeof a) != 0);
    /* Random (version 4, RFC 4122 variant) in the byte order of uuid.h. */
    CHECK_EQ(a.au8[6] >> 4, 4);
    CHECK_EQ(a.au8[8] >> 6, 2);
    vdc_uuid_format(&a, s);
    CHECK_EQ(strlen(s), 36);
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23)
            CHECK_EQ(s[i], '-');
        else
            CHECK(isxdigit((unsigned char)s[i]) && !isupper((unsigned char)s[i]));
    }
    CHECK_EQ(s[14], '4');
    CHECK_EQ(vdc_uuid_parse(s, &back), VINF_SUCCESS);
    CHECK(memcmp(&a, &back, sizeof a) == 0);
}

CHECK_MAIN(CHECK_CASE(test_status_known), CHECK_CASE(test_status_covers_header),
           CHECK_CASE(test_uuid_byte_order), CHECK_CASE(test_uuid_parse_rejects),
           CHECK_CASE(test_uuid_generate))
