/* test_json_schema.c -- the schema checker: documents that follow the
 * schema pass at every byte; ones that break it (unknown or repeated key,
 * missing required key, wrong type, enum miss, float for an integer) fail at
 * some byte. */
#include <string.h>

#include "engine/json_regex.h"
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

/* ---- $ref, anyOf/oneOf, bounds, lengths, pattern ------------------------- */

/* fits() for a schema given as text */
static int fits_s(const char *schema_text, const char *doc)
{
        struct json_schema *s = NULL;
        struct mu_err err = {0};
        int r;

        if (json_schema_compile(schema_text, &s, &err)) {
                test_fail_at(__FILE__, __LINE__, "compile %s: %s", schema_text, err.msg);
                return -2;
        }
        r = fits(s, doc);
        json_schema_free(s);
        return r;
}

/* Bytes of doc accepted before the first rejection (strlen: all). */
static size_t accepted(const char *schema_text, const char *doc)
{
        struct json_schema *s = NULL;
        struct json_schema_state st;
        struct mu_err err = {0};
        size_t i;

        if (json_schema_compile(schema_text, &s, &err))
                return (size_t)-1;
        json_schema_state_init(&st, s);
        for (i = 0; doc[i]; i++)
                if (json_schema_feed(&st, doc + i, 1))
                        break;
        json_schema_free(s);
        return i;
}

TEST(json_schema_ref)
{
        const char *defs =
                "{\"$defs\":{\"pt\":{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"integer\"},"
                "\"y\":{\"type\":\"integer\"}},\"required\":[\"x\",\"y\"]}},"
                "\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/$defs/pt\"},"
                "\"b\":{\"$ref\":\"#/$defs/pt\"}},\"required\":[\"a\"]}";
        CHECK_EQ_INT(fits_s(defs, "{\"a\":{\"x\":1,\"y\":2},\"b\":{\"y\":0,\"x\":3}}"), 1);
        CHECK_EQ_INT(fits_s(defs, "{\"a\":{\"x\":1}}"), 0);              /* y required */
        CHECK_EQ_INT(fits_s(defs, "{\"a\":{\"x\":1,\"y\":2.5}}"), 0);    /* integer */
        CHECK_EQ_INT(fits_s(defs, "{\"a\":{\"x\":1,\"y\":2,\"z\":3}}"), 0);
        /* draft-7 "definitions", and a recursive tree through "#" */
        const char *tree =
                "{\"type\":\"object\",\"properties\":{\"v\":{\"$ref\":\"#/definitions/v\"},"
                "\"kids\":{\"type\":\"array\",\"items\":{\"$ref\":\"#\"}}},\"required\":[\"v\"],"
                "\"definitions\":{\"v\":{\"type\":\"string\",\"enum\":[\"leaf\",\"node\"]}}}";
        CHECK_EQ_INT(fits_s(tree, "{\"v\":\"node\",\"kids\":[{\"v\":\"leaf\"},"
                                  "{\"v\":\"node\",\"kids\":[{\"v\":\"leaf\",\"kids\":[]}]}]}"), 1);
        CHECK_EQ_INT(fits_s(tree, "{\"v\":\"node\",\"kids\":[{\"v\":\"tree\"}]}"), 0);
        CHECK_EQ_INT(fits_s(tree, "{\"v\":\"node\",\"kids\":[{\"kids\":[]}]}"), 0);
        /* a ref that points nowhere (or elsewhere) accepts any value */
        const char *broken = "{\"type\":\"object\",\"properties\":{\"a\":{\"$ref\":\"#/nope\"},"
                             "\"b\":{\"$ref\":\"http://x/s.json\"}}}";
        CHECK_EQ_INT(fits_s(broken, "{\"a\":[1,{\"q\":null}],\"b\":\"s\"}"), 1);
        /* a root that is a $ref */
        CHECK_EQ_INT(fits_s("{\"$ref\":\"#/$defs/o\",\"$defs\":{\"o\":{\"type\":\"object\","
                            "\"properties\":{\"k\":{\"type\":\"boolean\"}}}}}", "{\"k\":true}"), 1);
        CHECK_EQ_INT(fits_s("{\"$ref\":\"#/$defs/o\",\"$defs\":{\"o\":{\"type\":\"object\","
                            "\"properties\":{\"k\":{\"type\":\"boolean\"}}}}}", "{\"k\":1}"), 0);
}

TEST(json_schema_any_of)
{
        const char *nullable = "{\"type\":\"object\",\"properties\":{\"n\":{\"anyOf\":["
                               "{\"type\":\"string\",\"maxLength\":3},{\"type\":\"null\"}]}}}";
        CHECK_EQ_INT(fits_s(nullable, "{\"n\":null}"), 1);
        CHECK_EQ_INT(fits_s(nullable, "{\"n\":\"abc\"}"), 1);
        CHECK_EQ_INT(fits_s(nullable, "{\"n\":\"abcd\"}"), 0);  /* the string branch's bound */
        CHECK_EQ_INT(fits_s(nullable, "{\"n\":1}"), 0);
        CHECK_EQ_INT(fits_s(nullable, "{\"n\":true}"), 0);
        /* two object alternatives: their union (keys of either; required by both) */
        const char *shapes =
                "{\"type\":\"object\",\"properties\":{\"s\":{\"oneOf\":["
                "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"circle\"},"
                "\"r\":{\"type\":\"number\"}},\"required\":[\"kind\",\"r\"]},"
                "{\"type\":\"object\",\"properties\":{\"kind\":{\"const\":\"square\"},"
                "\"side\":{\"type\":\"number\"}},\"required\":[\"kind\",\"side\"]},"
                "{\"type\":\"integer\",\"minimum\":0}]}}}";
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":{\"kind\":\"circle\",\"r\":2}}"), 1);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":{\"kind\":\"square\",\"side\":1.5}}"), 1);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":7}"), 1);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":-7}"), 0);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":{\"kind\":\"triangle\"}}"), 0);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":{\"kind\":\"circle\",\"height\":1}}"), 0);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":\"circle\"}"), 0);
        CHECK_EQ_INT(fits_s(shapes, "{\"s\":{}}"), 0);  /* kind is required by both */
        /* nested anyOf, and one alternative per kind is taken exactly */
        const char *nested = "{\"type\":\"object\",\"properties\":{\"v\":{\"anyOf\":["
                             "{\"anyOf\":[{\"type\":\"boolean\"},{\"type\":\"array\","
                             "\"items\":{\"type\":\"integer\"}}]},{\"enum\":[\"x\",\"y\"]}]}}}";
        CHECK_EQ_INT(fits_s(nested, "{\"v\":[1,2]}"), 1);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":false}"), 1);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":\"y\"}"), 1);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":[\"a\"]}"), 0);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":\"z\"}"), 0);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":null}"), 0);
        CHECK_EQ_INT(fits_s(nested, "{\"v\":{}}"), 0);
        /* a recursive anyOf through $ref terminates */
        const char *rec = "{\"$defs\":{\"t\":{\"anyOf\":[{\"type\":\"integer\"},"
                          "{\"type\":\"array\",\"items\":{\"$ref\":\"#/$defs/t\"}},"
                          "{\"$ref\":\"#/$defs/t\"}]}},\"type\":\"object\","
                          "\"properties\":{\"t\":{\"$ref\":\"#/$defs/t\"}}}";
        CHECK_EQ_INT(fits_s(rec, "{\"t\":[1,[2,[3]],[]]}"), 1);
}

TEST(json_schema_number_bounds)
{
        const char *age = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\","
                          "\"minimum\":1,\"maximum\":120}}}";
        CHECK_EQ_INT(fits_s(age, "{\"n\":1}"), 1);
        CHECK_EQ_INT(fits_s(age, "{\"n\":120}"), 1);
        CHECK_EQ_INT(fits_s(age, "{\"n\":37}"), 1);
        CHECK_EQ_INT(fits_s(age, "{\"n\":0}"), 0);
        CHECK_EQ_INT(fits_s(age, "{\"n\":121}"), 0);
        CHECK_EQ_INT(accepted(age, "{\"n\":121}"), 7);     /* at the '1' that overflows */
        CHECK_EQ_INT(accepted(age, "{\"n\":-5}"), 5);      /* at the '-' */
        CHECK_EQ_INT(accepted(age, "{\"n\":0}"), 5);       /* "0" cannot grow */
        CHECK_EQ_INT(accepted(age, "{\"n\":2000}"), 7);  /* "200" */
        /* exclusive bounds close without a dead end: "10" is refused at '0' */
        const char *ex = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\","
                         "\"exclusiveMinimum\":0,\"exclusiveMaximum\":10}}}";
        CHECK_EQ_INT(fits_s(ex, "{\"n\":9}"), 1);
        CHECK_EQ_INT(accepted(ex, "{\"n\":10}"), 6);
        CHECK_EQ_INT(fits_s(ex, "{\"n\":0}"), 0);
        /* numbers with fractions; negative ranges; no exponent when bounded */
        const char *frac = "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"number\","
                           "\"minimum\":0.5,\"maximum\":1},\"t\":{\"type\":\"number\","
                           "\"minimum\":-40,\"maximum\":-10.5}}}";
        CHECK_EQ_INT(fits_s(frac, "{\"p\":0.5}"), 1);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":0.75,\"t\":-20.25}"), 1);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":1.0}"), 1);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":0.4}"), 0);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":0}"), 0);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":1.01}"), 0);
        CHECK_EQ_INT(accepted(frac, "{\"p\":2"), 5);
        CHECK_EQ_INT(fits_s(frac, "{\"t\":-10}"), 0);
        CHECK_EQ_INT(fits_s(frac, "{\"t\":-41}"), 0);
        CHECK_EQ_INT(fits_s(frac, "{\"t\":-10.6}"), 1);
        CHECK_EQ_INT(accepted(frac, "{\"t\":5"), 5);
        CHECK_EQ_INT(fits_s(frac, "{\"p\":5e-1}"), 0);
        /* draft 4: exclusiveMaximum as a boolean next to maximum */
        const char *d4 = "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\","
                         "\"maximum\":3,\"exclusiveMaximum\":true}}}";
        CHECK_EQ_INT(fits_s(d4, "{\"n\":2}"), 1);
        CHECK_EQ_INT(fits_s(d4, "{\"n\":3}"), 0);
        /* unbounded numbers keep exponents */
        CHECK_EQ_INT(fits_s("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"number\"}}}",
                            "{\"x\":-1.5e+3}"), 1);
}

TEST(json_schema_string_length)
{
        const char *s = "{\"type\":\"object\",\"properties\":{\"c\":{\"type\":\"string\","
                        "\"minLength\":2,\"maxLength\":3}}}";
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"ab\"}"), 1);
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"abc\"}"), 1);
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"a\"}"), 0);
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"\"}"), 0);
        CHECK_EQ_INT(accepted(s, "{\"c\":\"abcd\"}"), 9);  /* at the 4th character */
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"\xc3\xa9t\xc3\xa9\"}"), 1);     /* code points */
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"\\n\\\"x\"}"), 1);            /* escapes: one each */
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"\\u00e9\\u00e9\"}"), 1);
        CHECK_EQ_INT(fits_s(s, "{\"c\":\"\\u00e9\\u00e9\\u00e9\\u00e9\"}"), 0);
}

TEST(json_schema_pattern)
{
        const char *mail = "{\"type\":\"object\",\"properties\":{\"m\":{\"type\":\"string\","
                           "\"pattern\":\"^[a-z0-9._]+@[a-z]+\\\\.(com|org)$\"}}}";
        CHECK_EQ_INT(fits_s(mail, "{\"m\":\"bob.s@example.com\"}"), 1);
        CHECK_EQ_INT(fits_s(mail, "{\"m\":\"x_1@a.org\"}"), 1);
        CHECK_EQ_INT(accepted(mail, "{\"m\":\"Bob@x.com\"}"), 6);  /* 'B' */
        CHECK_EQ_INT(fits_s(mail, "{\"m\":\"bob@x.net\"}"), 0);
        CHECK_EQ_INT(fits_s(mail, "{\"m\":\"bob@x.com.\"}"), 0);
        CHECK_EQ_INT(fits_s(mail, "{\"m\":\"bob@x\"}"), 0);
        /* unanchored: a search */
        const char *dig = "{\"type\":\"object\",\"properties\":{\"d\":{\"type\":\"string\","
                          "\"pattern\":\"\\\\d{3}\"}}}";
        CHECK_EQ_INT(fits_s(dig, "{\"d\":\"ab123cd\"}"), 1);
        CHECK_EQ_INT(fits_s(dig, "{\"d\":\"12a3\"}"), 0);
        /* repetition counts, classes, escapes decoded before matching */
        const char *ph = "{\"type\":\"object\",\"properties\":{\"p\":{\"type\":\"string\","
                         "\"pattern\":\"^\\\\(?[0-9]{3}\\\\)?[- ]?[0-9]{2,4}$\"},"
                         "\"n\":{\"type\":\"string\",\"pattern\":\"^a\\\\nb+$\"},"
                         "\"w\":{\"type\":\"string\",\"pattern\":\"^[^0-9]*$\"}}}";
        CHECK_EQ_INT(fits_s(ph, "{\"p\":\"(555) 1234\"}"), 1);
        CHECK_EQ_INT(fits_s(ph, "{\"p\":\"555-12\"}"), 1);
        CHECK_EQ_INT(fits_s(ph, "{\"p\":\"555-1\"}"), 0);
        CHECK_EQ_INT(fits_s(ph, "{\"p\":\"555-12345\"}"), 0);
        CHECK_EQ_INT(fits_s(ph, "{\"n\":\"a\\nbbb\"}"), 1);
        CHECK_EQ_INT(fits_s(ph, "{\"n\":\"a\\\\nb\"}"), 0);
        CHECK_EQ_INT(fits_s(ph, "{\"w\":\"h\xc3\xa9llo\"}"), 1);
        CHECK_EQ_INT(fits_s(ph, "{\"w\":\"h3llo\"}"), 0);
        /* outside the subset: not enforced */
        CHECK_EQ_INT(fits_s("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\","
                            "\"pattern\":\"^(a)\\\\1$\"}}}", "{\"x\":\"zz\"}"), 1);
        CHECK_EQ_INT(fits_s("{\"type\":\"object\",\"properties\":{\"x\":{\"type\":\"string\","
                            "\"pattern\":\"^(?=a)a$\"}}}", "{\"x\":\"b\"}"), 1);
}

TEST(json_regex_subset)
{
        const char *bad[] = {"(a", "a)", "[a-", "a{2", "(?=x)", "\\1", "a^b", "a$b", "\\b",
                             "[0-9]{100}", "a{3,2}"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                struct json_regex *r = json_regex_compile(bad[i]);
                CHECK_MSG(r == NULL, "'%s' compiled", bad[i]);
                json_regex_free(r);
        }
        struct json_regex *r = json_regex_compile("^(ab|c)*d?$");
        CHECK(r != NULL);
        if (r) {
                const char *yes[] = {"", "ab", "cabd", "d", "ccab"}, *no[] = {"a", "abd d", "dd", "b"};
                for (size_t i = 0; i < 5; i++) {
                        uint64_t set = 0;
                        uint8_t st = 0;
                        int ok = 1;
                        for (const char *p = yes[i]; *p && ok; p++)
                                ok = json_regex_step(r, &set, &st, *p) == 0;
                        CHECK_MSG(ok && json_regex_accepts(r, set, st), "'%s' not matched", yes[i]);
                }
                for (size_t i = 0; i < 4; i++) {
                        uint64_t set = 0;
                        uint8_t st = 0;
                        int ok = 1;
                        for (const char *p = no[i]; *p && ok; p++)
                                ok = json_regex_step(r, &set, &st, *p) == 0;
                        CHECK_MSG(!(ok && json_regex_accepts(r, set, st)), "'%s' matched", no[i]);
                }
        }
        json_regex_free(r);
}
TEST(json_schema_no_dead_end_at_backslash)
{
        /* a backslash is refused where no escape could follow: in a key of a
         * closed object, in an enum string, at maxLength, and in a pattern
         * string where no short escape fits (\\u is never taken there) */
        const char *sch = "{\"type\":\"object\",\"properties\":{\"ratio\":{\"enum\":[\"a\"]},"
                          "\"s\":{\"type\":\"string\",\"maxLength\":1},"
                          "\"p\":{\"type\":\"string\",\"pattern\":\"^[A-Z]+$\"},"
                          "\"q\":{\"type\":\"string\",\"pattern\":\"^a\\\\nb$\"}}}";
        CHECK_EQ_INT(accepted(sch, "{\"r\\u0061tio\":\"a\"}"), 3);
        CHECK_EQ_INT(accepted(sch, "{\"ratio\":\"\\u0061\"}"), 10);
        CHECK_EQ_INT(accepted(sch, "{\"s\":\"x\\n\"}"), 7);
        CHECK_EQ_INT(accepted(sch, "{\"p\":\"AB\\n\"}"), 8);
        CHECK_EQ_INT(accepted(sch, "{\"p\":\"\\u0041\"}"), 6);
        CHECK_EQ_INT(fits_s(sch, "{\"q\":\"a\\nb\"}"), 1);
        CHECK_EQ_INT(fits_s(sch, "{\"s\":\"\\n\"}"), 1);
}

TEST(json_schema_array_items_count)
{
        const char *s = "{\"type\":\"object\",\"properties\":{\"t\":{\"type\":\"array\","
                        "\"items\":{\"type\":\"integer\"},\"minItems\":1,\"maxItems\":2}}}";
        CHECK_EQ_INT(fits_s(s, "{\"t\":[1]}"), 1);
        CHECK_EQ_INT(fits_s(s, "{\"t\":[1, 2]}"), 1);
        CHECK_EQ_INT(fits_s(s, "{\"t\":[]}"), 0);
        CHECK_EQ_INT(accepted(s, "{\"t\":[1,2,3]}"), 9);  /* the second , */
}
