/* test_json_schema.c -- the schema checker: documents that follow the
 * schema pass at every byte; ones that break it (unknown or repeated key,
 * missing required key, wrong type, enum miss, float for an integer) fail at
 * some byte. */
#include "mullama/json_prefix.h"
#include "mullama/json_schema.h"
#include "test.h"

static const char *schema =
        "{\"type\":\"object\",\"properties\":{"
        "\"name\":{\"type\":\"string\"},"
        "\"age\":{\"type\":\"integer\"},"
        "\"score\":{\"type\":\"number\"},"
        "\"tags\":{\"type\":\"array\",\"items\":{\"type\":\"string\"}},"
        "\"color\":{\"enum\":[\"red\",\"green\"]},"
        "\"ok\":{\"type\":\"boolean\"},"
        "\"extra\":{}},"
        "\"required\":[\"name\",\"age\"]}";

/* 1: every byte fits and the document is done at the end */
static int fits(const struct json_schema *s, const char *doc)
{
        struct json_schema_state st;
        struct json_prefix jp;

        json_schema_state_init(&st, s);
        json_prefix_init(&jp);
        for (const char *p = doc; *p; p++) {
                if (json_prefix_feed(&jp, p, 1))
                        return -1;  /* the test document itself is not JSON */
                if (json_schema_feed(&st, p, 1))
                        return 0;
        }
        return json_schema_done(&st) && json_prefix_done(&jp);
}

TEST(json_schema_accepts_conforming)
{
        struct json_schema *s = NULL;
        struct mu_err err = {0};

        CHECK(json_schema_compile(schema, &s, &err) == 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"Ann\",\"age\":31}"), 1);
        CHECK_EQ_INT(fits(s, " { \"age\" : -4 , \"name\" : \"x\\\"y\" , \"score\": 1.5e3,"
                             " \"tags\": [\"a\", \"b\"], \"color\": \"green\", \"ok\": true,"
                             " \"extra\": {\"any\": [1, {\"x\": null}]}} "), 1);
        CHECK_EQ_INT(fits(s, "{\"name\":\"\",\"age\":0,\"tags\":[]}"), 1);
        json_schema_free(s);
}

TEST(json_schema_rejects_violations)
{
        struct json_schema *s = NULL;
        struct mu_err err = {0};

        CHECK(json_schema_compile(schema, &s, &err) == 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"Ann\"}"), 0);                  /* age missing */
        CHECK_EQ_INT(fits(s, "{}"), 0);
        CHECK_EQ_INT(fits(s, "{\"nam\":\"Ann\",\"age\":1}"), 0);         /* unknown key */
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"name\":\"b\",\"age\":1}"), 0); /* repeated */
        CHECK_EQ_INT(fits(s, "{\"name\":5,\"age\":1}"), 0);              /* wrong type */
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1.5}"), 0);        /* not an integer */
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1,\"color\":\"blue\"}"), 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1,\"color\":\"re\"}"), 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1,\"tags\":[1]}"), 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1,\"ok\":null}"), 0);
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":1234567890123456}"), 0); /* 16 digits */
        CHECK_EQ_INT(fits(s, "{\"name\":\"a\",\"age\":123456789012345}"), 1);
        CHECK_EQ_INT(fits(s, "[1]"), -1);
        json_schema_free(s);
}

TEST(json_schema_no_dead_end_after_last_key)
{
        struct json_schema *s = NULL;
        struct json_schema_state st;
        struct mu_err err = {0};
        const char *doc = "{\"a\":1";

        CHECK(json_schema_compile("{\"properties\":{\"a\":{\"type\":\"integer\"}}}", &s, &err) == 0);
        json_schema_state_init(&st, s);
        CHECK(json_schema_feed(&st, doc, strlen(doc)) == 0);
        struct json_schema_state t = st;
        CHECK(json_schema_feed(&t, ",", 1) != 0);  /* no key left: a comma is a dead end */
        t = st;
        CHECK(json_schema_feed(&t, "}", 1) == 0 && json_schema_done(&t));
        json_schema_free(s);
        s = NULL;
        CHECK(json_schema_compile("[1]", &s, &err) == MU_EINVAL && s == NULL);
}
