/* Text readers: tags CSV, tags JSON Lines, outcomes CSV, kind detection. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* ---- helpers ------------------------------------------------------------- */

static prime_status load(const char *text, prime_tagstore **s, prime_outcomes **o)
{
    return prime_tagstore_load_memory(text, strlen(text), "t.csv", s, o);
}

/* Load text (named `name`), expect failure with `status`, and a message
 * "name:line: ...problem...". line 0: the message has no line. */
static void expect_error_named(const char *text, size_t len, const char *name,
                               prime_status status, unsigned line, const char *problem)
{
    prime_tagstore *s = (prime_tagstore *)0x1;
    prime_outcomes *o = (prime_outcomes *)0x1;
    prime_status st = prime_tagstore_load_memory(text, len, name, &s, &o);
    const char *msg = prime_last_error();
    cr_assert_eq(st, status, "status %s (%s), expected %s", prime_status_name(st), msg,
                 prime_status_name(status));
    cr_assert_null(s);
    cr_assert_null(o);
    char prefix[256];
    snprintf(prefix, sizeof prefix, "%s:%u: ", name, line);
    cr_assert(strncmp(msg, prefix, strlen(prefix)) == 0, "message \"%s\" does not start with \"%s\"",
              msg, prefix);
    cr_assert(strstr(msg, problem) != NULL, "message \"%s\" does not mention \"%s\"", msg, problem);
}

static void expect_error(const char *text, prime_status status, unsigned line, const char *problem)
{
    expect_error_named(text, strlen(text), "t.csv", status, line, problem);
}

static void expect_error_jl(const char *text, prime_status status, unsigned line,
                            const char *problem)
{
    expect_error_named(text, strlen(text), "t.jsonl", status, line, problem);
}

/* Tags of image i as "a|b|c" in name order. */
static const char *tags_of(const prime_tagstore *s, uint32_t i)
{
    static char buf[4096];
    uint32_t ids[256], n = 0;
    cr_assert_eq(prime_tagstore_image_tags(s, i, ids, 256, &n), PRIME_OK);
    const char *names[256];
    for (uint32_t k = 0; k < n; k++)
        names[k] = prime_tagstore_tag_name(s, ids[k]);
    for (uint32_t a = 1; a < n; a++)
        for (uint32_t b = a; b > 0 && strcmp(names[b - 1], names[b]) > 0; b--) {
            const char *t = names[b];
            names[b] = names[b - 1];
            names[b - 1] = t;
        }
    buf[0] = '\0';
    for (uint32_t k = 0; k < n; k++) {
        if (k > 0)
            strcat(buf, "|");
        strcat(buf, names[k]);
    }
    return buf;
}

static const char *class_of(const prime_tagstore *s, uint32_t i)
{
    return prime_tagstore_class_name(s, prime_tagstore_image_class(s, i));
}

static double outcome(const prime_outcomes *o, uint32_t i)
{
    double v = -1;
    cr_assert_eq(prime_outcomes_get(o, i, &v), PRIME_OK);
    return v;
}

/* ---- good CSV -------------------------------------------------------------- */

Test(readers, csv_basic)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = (prime_outcomes *)0x1;
    cr_assert_eq(load("image,class,tags\na.jpg,fox,white|zoo\nb.jpg,fox,\nc.jpg,ape,zoo\n", &s, &o),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_null(o);
    cr_assert(prime_tagstore_is_frozen(s));
    cr_assert_eq(prime_tagstore_image_count(s), 3);
    cr_assert_eq(prime_tagstore_class_count(s), 2);
    cr_assert_eq(prime_tagstore_tag_count(s), 2);
    cr_assert_str_eq(prime_tagstore_image_name(s, 0), "a.jpg");
    cr_assert_str_eq(tags_of(s, 0), "white|zoo");
    cr_assert_str_eq(tags_of(s, 1), "");
    cr_assert_str_eq(class_of(s, 2), "ape");
    cr_assert_str_eq(tags_of(s, 2), "zoo");
    prime_tagstore_destroy(s);
}

Test(readers, csv_quoting_crlf_bom_order_extra_columns)
{
    const char *text = "\xEF\xBB\xBF"
                       "id,tags,extra,class,image\r\n"
                       "1,\"a,b|say \"\"hi\"\"\",\"x\r\ny\",\"my, class\",\"img\n1\"\r\n"
                       "\r\n"
                       "   \t \r\n"
                       "2,,,c2,img2\r\n"
                       "3,q|q|r|q,\"\",c2,\"\"\"quoted\"\"\"";
    prime_tagstore *s = NULL;
    cr_assert_eq(load(text, &s, NULL), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 3);
    cr_assert_str_eq(prime_tagstore_image_name(s, 0), "img\n1");
    cr_assert_str_eq(class_of(s, 0), "my, class");
    cr_assert_str_eq(tags_of(s, 0), "a,b|say \"hi\"");
    cr_assert_str_eq(tags_of(s, 1), "");
    cr_assert_str_eq(prime_tagstore_image_name(s, 2), "\"quoted\"");
    cr_assert_str_eq(tags_of(s, 2), "q|r"); /* duplicates merged */
    prime_tagstore_destroy(s);
}

Test(readers, csv_no_final_newline_and_header_only)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(load("image,class,tags\nx,c,t", &s, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(s), 1);
    cr_assert_str_eq(tags_of(s, 0), "t");
    prime_tagstore_destroy(s);
    s = NULL;
    cr_assert_eq(load("image,class,tags\n", &s, NULL), PRIME_OK);
    cr_assert_eq(prime_tagstore_image_count(s), 0);
    cr_assert(prime_tagstore_is_frozen(s));
    prime_tagstore_destroy(s);
    s = NULL;
    cr_assert_eq(load("image,class,tags\r", &s, NULL), PRIME_OK); /* CR at the very end */
    prime_tagstore_destroy(s);
}

Test(readers, csv_utf8_names_and_long_tag)
{
    char text[1024];
    char tag[256];
    memset(tag, 'x', 255);
    tag[255] = '\0';
    snprintf(text, sizeof text, "image,class,tags\n\xC3\xA9t\xC3\xA9,\xE7\x8B\x90,%s|\xF0\x9F\x98\x80\n",
             tag);
    prime_tagstore *s = NULL;
    cr_assert_eq(load(text, &s, NULL), PRIME_OK, "%s", prime_last_error());
    cr_assert_str_eq(prime_tagstore_image_name(s, 0), "\xC3\xA9t\xC3\xA9");
    cr_assert_str_eq(class_of(s, 0), "\xE7\x8B\x90");
    uint32_t id;
    cr_assert_eq(prime_tagstore_find_tag(s, tag, &id), PRIME_OK);
    cr_assert_eq(prime_tagstore_find_tag(s, "\xF0\x9F\x98\x80", &id), PRIME_OK);
    prime_tagstore_destroy(s);
}

Test(readers, csv_correct_column)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(load("image,class,tags,correct\na,c,x,1\nb,c,x,0\nc,c,,1.0\n", &s, &o), PRIME_OK,
                 "%s", prime_last_error());
    cr_assert_not_null(o);
    cr_assert_eq(prime_outcomes_count(o), 3);
    cr_assert_eq(outcome(o, 0), 1.0);
    cr_assert_eq(outcome(o, 1), 0.0);
    cr_assert_eq(outcome(o, 2), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, csv_score_column)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(load("score,image,class,tags\n0.25,a,c,x\n1,b,c,x\n0,c,c,x\n1e-1,d,c,x\n", &s, &o),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(outcome(o, 0), 0.25);
    cr_assert_eq(outcome(o, 1), 1.0);
    cr_assert_eq(outcome(o, 2), 0.0);
    cr_assert_eq(outcome(o, 3), 0.1);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, csv_simple_fraction_matches_strtod)
{
    const char *vals[] = {"0.1", "0.3", "0.7", "0.123456789012345", "0.999999999999999", "1.000"};
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        char text[128];
        snprintf(text, sizeof text, "image,class,tags,score\na,c,x,%s\n", vals[i]);
        prime_tagstore *s = NULL;
        prime_outcomes *o = NULL;
        cr_assert_eq(load(text, &s, &o), PRIME_OK);
        cr_assert_eq(outcome(o, 0), strtod(vals[i], NULL), "%s", vals[i]);
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
    }
}

Test(readers, csv_correct_wins_over_score)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(load("image,class,tags,score,correct\na,c,x,0.5,0\nb,c,x,zzz,1\n", &s, &o),
                 PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(outcome(o, 0), 0.0);
    cr_assert_eq(outcome(o, 1), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, csv_outcomes_validated_when_dropped)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(load("image,class,tags,correct\na,c,x,1\n", &s, NULL), PRIME_OK);
    prime_tagstore_destroy(s);
    expect_error("image,class,tags,correct\na,c,x,3\n", PRIME_E_RANGE, 2, "correct must be 0 or 1");
}

/* ---- bad CSV: one test per problem ------------------------------------------ */

Test(readers, csv_err_empty_file)
{
    expect_error("", PRIME_E_PARSE, 1, "empty file");
}

Test(readers, csv_err_only_blank_lines)
{
    expect_error("\xEF\xBB\xBF\n\r\n  \n", PRIME_E_PARSE, 4, "empty file");
}

Test(readers, csv_err_missing_column)
{
    expect_error("image,class,tag\na,c,x\n", PRIME_E_PARSE, 1, "missing column \"tags\"");
}

Test(readers, csv_err_missing_image_column_after_blank_line)
{
    expect_error("\nfile,class,tags\na,c,x\n", PRIME_E_PARSE, 2, "missing column \"image\"");
}

Test(readers, csv_err_duplicate_column)
{
    expect_error("image,class,tags,class\na,c,x,d\n", PRIME_E_PARSE, 1, "\"class\" appears twice");
}

Test(readers, csv_err_too_few_fields)
{
    expect_error("image,class,tags\na,c,x\nb,c\n", PRIME_E_PARSE, 3, "expected 3 fields, found 2");
}

Test(readers, csv_err_too_many_fields)
{
    expect_error("image,class,tags\na,c,x,\n", PRIME_E_PARSE, 2, "expected 3 fields, found 4");
}

Test(readers, csv_err_quote_in_unquoted_field)
{
    expect_error("image,class,tags\na,c,x\nb,c,say \"hi\"\n", PRIME_E_PARSE, 3,
                 "quote inside an unquoted field");
}

Test(readers, csv_err_text_after_closing_quote)
{
    expect_error("image,class,tags\n\"a\"b,c,x\n", PRIME_E_PARSE, 2, "text after the closing quote");
}

Test(readers, csv_err_unterminated_quote)
{
    expect_error("image,class,tags\na,c,x\nb,\"c,x\nd,e,f\ng,h,i\n", PRIME_E_PARSE, 3,
                 "unterminated quoted field");
}

Test(readers, csv_err_stray_carriage_return)
{
    expect_error("image,class,tags\na,c\rd,x\n", PRIME_E_PARSE, 2, "carriage return");
}

Test(readers, csv_err_invalid_utf8)
{
    expect_error("image,class,tags\na,c,x\nb,c,x\nc,c,caf\xE9\n", PRIME_E_PARSE, 4, "invalid UTF-8");
}

Test(readers, csv_err_invalid_utf8_surrogate)
{
    expect_error("image,class,tags\na,c,\xED\xA0\x80\n", PRIME_E_PARSE, 2, "invalid UTF-8");
}

Test(readers, csv_err_invalid_utf8_overlong)
{
    expect_error("image,class,tags\na,c,x\nb,\xC0\xAF,x\n", PRIME_E_PARSE, 3, "invalid UTF-8");
}

Test(readers, csv_err_invalid_utf8_in_ignored_column)
{
    expect_error("image,class,tags,note\na,c,x,\xFF\n", PRIME_E_PARSE, 2, "invalid UTF-8");
}

Test(readers, csv_err_nul_byte)
{
    const char text[] = "image,class,tags\na,c,x\nb,c\0,x\n";
    expect_error_named(text, sizeof text - 1, "t.csv", PRIME_E_PARSE, 3, "NUL byte");
}

Test(readers, csv_err_empty_image)
{
    expect_error("image,class,tags\na,c,x\n,c,x\n", PRIME_E_PARSE, 3, "empty image name");
}

Test(readers, csv_err_empty_class)
{
    expect_error("image,class,tags\na,\"\",x\n", PRIME_E_PARSE, 2, "empty class name");
}

Test(readers, csv_err_duplicate_image)
{
    expect_error("image,class,tags\na,c,x\nb,c,x\n\"a\",d,y\n", PRIME_E_DUPLICATE, 4,
                 "duplicate image \"a\" (first on line 2)");
}

Test(readers, csv_err_duplicate_image_after_multiline_field)
{
    expect_error("image,class,tags\n\"a\nb\",c,x\nq,c,x\n\"a\nb\",d,y\n", PRIME_E_DUPLICATE, 5,
                 "(first on line 2)");
}

Test(readers, csv_err_correct_out_of_range)
{
    expect_error("image,class,tags,correct\na,c,x,1\nb,c,x,2\n", PRIME_E_RANGE, 3,
                 "correct must be 0 or 1");
}

Test(readers, csv_err_correct_not_a_number)
{
    expect_error("image,class,tags,correct\na,c,x,yes\n", PRIME_E_PARSE, 2,
                 "correct is not a number");
}

Test(readers, csv_err_correct_empty)
{
    expect_error("image,class,tags,correct\na,c,x,\n", PRIME_E_PARSE, 2, "correct is not a number");
}

Test(readers, csv_err_score_above_one)
{
    expect_error("image,class,tags,score\na,c,x,0.5\nb,c,x,1.5\n", PRIME_E_RANGE, 3,
                 "score 1.5 is outside [0, 1]");
}

Test(readers, csv_err_score_negative)
{
    expect_error("image,class,tags,score\na,c,x,-0.1\n", PRIME_E_RANGE, 2, "outside [0, 1]");
}

Test(readers, csv_err_score_not_a_number)
{
    expect_error("image,class,tags,score\na,c,x,0.5x\n", PRIME_E_PARSE, 2, "score is not a number");
}

Test(readers, csv_err_score_nan)
{
    expect_error("image,class,tags,score\na,c,x,nan\n", PRIME_E_PARSE, 2, "score is not a number");
}

Test(readers, csv_err_empty_tag_middle)
{
    expect_error("image,class,tags\na,c,x\nb,c,a||b\n", PRIME_E_PARSE, 3, "empty tag name");
}

Test(readers, csv_err_empty_tag_trailing)
{
    expect_error("image,class,tags\nb,c,a|\n", PRIME_E_PARSE, 2, "empty tag name");
}

Test(readers, csv_err_empty_tag_leading)
{
    expect_error("image,class,tags\nb,c,|a\n", PRIME_E_PARSE, 2, "empty tag name");
}

/* Regression (fuzzer): a tags field made only of '|' splits into more
 * pieces than the reader had room for (it assumed one tag per two bytes). */
Test(readers, csv_err_only_pipes)
{
    expect_error("image,class,tags\nb,c,||||\n", PRIME_E_PARSE, 2, "empty tag name");
    char text[512];
    char pipes[201];
    memset(pipes, '|', 200);
    pipes[200] = '\0';
    snprintf(text, sizeof text, "image,class,tags\na,c,x\nb,c,%s\n", pipes);
    expect_error(text, PRIME_E_PARSE, 3, "empty tag name");
}

Test(readers, csv_err_tag_too_long)
{
    char text[1024];
    char tag[257];
    memset(tag, 'y', 256);
    tag[256] = '\0';
    snprintf(text, sizeof text, "image,class,tags\na,c,x\nb,c,ok|%s\n", tag);
    expect_error(text, PRIME_E_LIMIT, 3, "tag name of 256 bytes");
}

Test(readers, csv_err_line_numbers_count_quoted_newlines_and_crlf)
{
    expect_error("image,class,tags\r\n\"a\r\n\r\nb\",c,x\r\nz,c,\"q\"x\r\n", PRIME_E_PARSE, 5,
                 "text after the closing quote");
}

Test(readers, csv_err_name_defaults_when_null)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load_memory("", 0, NULL, &s, NULL), PRIME_E_PARSE);
    cr_assert(strstr(prime_last_error(), "<memory>:1: empty file") != NULL, "%s",
              prime_last_error());
}

/* ---- JSON Lines ------------------------------------------------------------ */

Test(readers, jsonl_basic_and_escapes)
{
    const char *text =
        "\xEF\xBB\xBF  {\"image\": \"a\\\"b\\\\c\\/\\n\", \"class\": \"fox\", \"tags\": [\"x\", "
        "\"\\u00e9\\u4e2d\", \"\\ud83d\\ude00\", \"x\"], \"correct\": true}\r\n"
        "\n"
        "{\"tags\":[],\"class\":\"fox\",\"image\":123,\"correct\":0,"
        "\"meta\":{\"a\":[1,2.5e3,-0.0,true,false,null,{\"b\":\"\\t\"}],\"c\":{}},\"z\":[]}\n"
        "{\"image\":\"q\",\"class\":7,\"tags\":[\"t\"],\"correct\":false}";
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load_memory(text, strlen(text), "t.jsonl", &s, &o), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 3);
    cr_assert_str_eq(prime_tagstore_image_name(s, 0), "a\"b\\c/\n");
    cr_assert_str_eq(tags_of(s, 0), "x|\xC3\xA9\xE4\xB8\xAD|\xF0\x9F\x98\x80");
    cr_assert_str_eq(prime_tagstore_image_name(s, 1), "123");
    cr_assert_str_eq(tags_of(s, 1), "");
    cr_assert_str_eq(class_of(s, 2), "7");
    cr_assert_eq(outcome(o, 0), 1.0);
    cr_assert_eq(outcome(o, 1), 0.0);
    cr_assert_eq(outcome(o, 2), 0.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, jsonl_score_and_no_outcomes)
{
    const char *text = "{\"image\":\"a\",\"class\":\"c\",\"tags\":[\"x\"],\"score\":0.75}\n"
                       "{\"image\":\"b\",\"class\":\"c\",\"tags\":[\"x\"],\"score\":1e0}\n";
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load_memory(text, strlen(text), "t.jsonl", &s, &o), PRIME_OK);
    cr_assert_eq(outcome(o, 0), 0.75);
    cr_assert_eq(outcome(o, 1), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    const char *plain = "{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}";
    o = (prime_outcomes *)0x1;
    cr_assert_eq(prime_tagstore_load_memory(plain, strlen(plain), "t.jsonl", &s, &o), PRIME_OK);
    cr_assert_null(o);
    prime_tagstore_destroy(s);
}

Test(readers, jsonl_nesting_63_is_fine)
{
    char text[512];
    int n = snprintf(text, sizeof text, "{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"deep\":");
    for (int i = 0; i < 63; i++)
        text[n++] = '[';
    for (int i = 0; i < 63; i++)
        text[n++] = ']';
    text[n++] = '}';
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load_memory(text, (size_t)n, "t.jsonl", &s, NULL), PRIME_OK, "%s",
                 prime_last_error());
    prime_tagstore_destroy(s);
}

Test(readers, jsonl_err_nesting_too_deep)
{
    static char text[200100];
    int n = snprintf(text, sizeof text, "{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n{\"x\":");
    for (int i = 0; i < 100000; i++)
        text[n++] = '[';
    text[n] = '\0';
    expect_error_jl(text, PRIME_E_PARSE, 2, "nesting deeper than 64");
}

Test(readers, jsonl_err_not_an_object)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n[1]\n", PRIME_E_PARSE, 2,
                    "expected a JSON object");
}

Test(readers, jsonl_err_missing_colon)
{
    expect_error_jl("{\"image\" \"a\"}", PRIME_E_PARSE, 1, "expected ':'");
}

Test(readers, jsonl_err_trailing_text)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]} x\n", PRIME_E_PARSE, 1,
                    "text after the object");
}

Test(readers, jsonl_err_unterminated_object)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]\n", PRIME_E_PARSE, 1,
                    "expected ',' or '}'");
}

Test(readers, jsonl_err_duplicate_known_key)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"image\":\"b\",\"tags\":[]}", PRIME_E_PARSE,
                    1, "duplicate key \"image\"");
}

Test(readers, jsonl_err_duplicate_unknown_key)
{
    expect_error_jl("{\"image\":\"a\",\"k\":1,\"class\":\"c\",\"tags\":[],\"\\u006b\":{}}",
                    PRIME_E_PARSE, 1, "duplicate key \"k\"");
}

Test(readers, jsonl_err_duplicate_nested_key)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n"
                    "{\"image\":\"b\",\"class\":\"c\",\"tags\":[],\"x\":[{\"k\":1,\"j\":{\"k\":0},"
                    "\"k\":2}]}",
                    PRIME_E_PARSE, 2, "duplicate key \"k\"");
}

Test(readers, jsonl_err_missing_key)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n{\"image\":\"b\",\"class\":\"c\"}",
                    PRIME_E_PARSE, 2, "missing key \"tags\"");
}

Test(readers, jsonl_err_tags_not_array)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":\"x|y\"}", PRIME_E_PARSE, 1,
                    "\"tags\" must be an array of strings");
}

Test(readers, jsonl_err_tag_not_string)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[\"x\",1]}", PRIME_E_PARSE, 1,
                    "\"tags\" must be an array of strings");
}

Test(readers, jsonl_err_invalid_escape)
{
    expect_error_jl("{\"image\":\"a\\x41\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "invalid escape \"\\x\"");
}

Test(readers, jsonl_err_bad_unicode_escape)
{
    expect_error_jl("{\"image\":\"a\\u12G4\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "invalid \\u escape");
}

Test(readers, jsonl_err_lone_high_surrogate)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n"
                    "{\"image\":\"\\ud83dx\",\"class\":\"c\",\"tags\":[]}",
                    PRIME_E_PARSE, 2, "lone high surrogate");
}

Test(readers, jsonl_err_lone_low_surrogate)
{
    expect_error_jl("{\"image\":\"\\ude00\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "lone low surrogate");
}

Test(readers, jsonl_err_control_char_in_string)
{
    expect_error_jl("{\"image\":\"a\tb\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "control character 0x09");
}

Test(readers, jsonl_err_invalid_utf8)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n\n"
                    "{\"image\":\"\xE2\x82\",\"class\":\"c\",\"tags\":[]}",
                    PRIME_E_PARSE, 3, "invalid UTF-8");
}

Test(readers, jsonl_err_nul_in_name)
{
    expect_error_jl("{\"image\":\"a\\u0000b\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "\\u0000");
}

Test(readers, jsonl_err_image_not_integer)
{
    expect_error_jl("{\"image\":1.5,\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "\"image\" must be a string or an integer");
}

Test(readers, jsonl_err_bad_number)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"n\":01}", PRIME_E_PARSE, 1,
                    "invalid number");
}

Test(readers, jsonl_err_empty_image)
{
    expect_error_jl("{\"image\":\"\",\"class\":\"c\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "empty image name");
}

Test(readers, jsonl_err_empty_class)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"\",\"tags\":[]}", PRIME_E_PARSE, 1,
                    "empty class name");
}

Test(readers, jsonl_err_duplicate_image)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n"
                    "{\"image\":\"b\",\"class\":\"c\",\"tags\":[]}\n"
                    "{\"image\":\"a\",\"class\":\"d\",\"tags\":[]}\n",
                    PRIME_E_DUPLICATE, 3, "duplicate image \"a\" (first on line 1)");
}

Test(readers, jsonl_err_correct_out_of_range)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"correct\":2}", PRIME_E_RANGE, 1,
                    "correct must be 0 or 1");
}

Test(readers, jsonl_err_correct_string)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"correct\":\"1\"}", PRIME_E_PARSE,
                    1, "\"correct\" must be 0, 1, true or false");
}

Test(readers, jsonl_err_score_out_of_range)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"score\":-1e-3}", PRIME_E_RANGE,
                    1, "outside [0, 1]");
}

Test(readers, jsonl_err_score_null)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"score\":null}", PRIME_E_PARSE, 1,
                    "\"score\" must be a number");
}

Test(readers, jsonl_err_empty_tag)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[\"x\",\"\"]}", PRIME_E_PARSE, 1,
                    "empty tag name");
}

Test(readers, jsonl_err_tag_with_pipe)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[\"x|y\"]}", PRIME_E_PARSE, 1,
                    "contains '|'");
}

Test(readers, jsonl_err_tag_too_long)
{
    char text[1024];
    char tag[300];
    memset(tag, 'z', 299);
    tag[299] = '\0';
    snprintf(text, sizeof text, "{\"image\":\"a\",\"class\":\"c\",\"tags\":[\"%s\"]}", tag);
    expect_error_jl(text, PRIME_E_LIMIT, 1, "tag name of 299 bytes");
}

Test(readers, jsonl_err_outcome_missing_on_later_line)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[],\"correct\":1}\n"
                    "{\"image\":\"b\",\"class\":\"c\",\"tags\":[]}\n",
                    PRIME_E_PARSE, 2, "missing key \"correct\" or \"score\"");
}

Test(readers, jsonl_err_outcome_only_on_later_line)
{
    expect_error_jl("{\"image\":\"a\",\"class\":\"c\",\"tags\":[]}\n"
                    "{\"image\":\"b\",\"class\":\"c\",\"tags\":[],\"score\":0.5}\n",
                    PRIME_E_PARSE, 2, "first record (line 1) has none");
}

Test(readers, jsonl_direct_empty_is_an_error)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime__read_tags_jsonl("\n \n", 3, "t.jsonl", &s, NULL), PRIME_E_PARSE);
    cr_assert(strstr(prime_last_error(), "empty file") != NULL);
    cr_assert_null(s);
}

/* ---- outcomes CSV ---------------------------------------------------------- */

static prime_tagstore *small_store(void)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(load("image,class,tags\na,c,x\nb,c,y\n\"c,1\",d,x\n", &s, NULL), PRIME_OK);
    return s;
}

static void expect_outcomes_error(const char *text, prime_status status, unsigned line,
                                  const char *problem)
{
    prime_tagstore *s = small_store();
    prime_outcomes *o = (prime_outcomes *)0x1;
    prime_status st = prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o);
    const char *msg = prime_last_error();
    cr_assert_eq(st, status, "status %s (%s)", prime_status_name(st), msg);
    cr_assert_null(o);
    char prefix[64];
    if (line > 0)
        snprintf(prefix, sizeof prefix, "out.csv:%u: ", line);
    else
        snprintf(prefix, sizeof prefix, "out.csv: ");
    cr_assert(strncmp(msg, prefix, strlen(prefix)) == 0, "message \"%s\" does not start with \"%s\"",
              msg, prefix);
    cr_assert(strstr(msg, problem) != NULL, "message \"%s\" does not mention \"%s\"", msg, problem);
    prime_tagstore_destroy(s);
}

Test(readers, outcomes_join_in_another_order)
{
    prime_tagstore *s = small_store();
    prime_outcomes *o = NULL;
    const char *text = "correct,image\r\n1,\"c,1\"\r\nnot,in-store\r\n0,a\r\n1,b\r\n";
    /* "not" would be an error: values are validated on every row */
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_E_PARSE);
    text = "\xEF\xBB\xBF"
           "correct,image\r\n1,\"c,1\"\r\n1,in-store-not\r\n0,a\r\n1,b\r\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_outcomes_count(o), 3);
    cr_assert_eq(outcome(o, 0), 0.0);
    cr_assert_eq(outcome(o, 1), 1.0);
    cr_assert_eq(outcome(o, 2), 1.0);
    cr_assert(prime_outcomes_is_binary(o));
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, outcomes_score)
{
    prime_tagstore *s = small_store();
    prime_outcomes *o = NULL;
    const char *text = "image,score,label\nb,0.5,x\na,0.25,y\n\"c,1\",1,z\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_OK);
    cr_assert_eq(outcome(o, 0), 0.25);
    cr_assert_eq(outcome(o, 1), 0.5);
    cr_assert_eq(outcome(o, 2), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, outcomes_label_prediction)
{
    prime_tagstore *s = small_store();
    prime_outcomes *o = NULL;
    const char *text = "prediction,label,image\nfox,fox,a\nfox,ape,b\n\"a,b\",\"a,b\",\"c,1\"\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(outcome(o, 0), 1.0);
    cr_assert_eq(outcome(o, 1), 0.0);
    cr_assert_eq(outcome(o, 2), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, outcomes_precedence_correct_over_score_over_labels)
{
    prime_tagstore *s = small_store();
    prime_outcomes *o = NULL;
    const char *text = "image,label,prediction,score,correct\na,x,x,0.5,0\nb,x,y,0.5,1\n\"c,1\",x,x,0.5,0\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_OK);
    cr_assert_eq(outcome(o, 0), 0.0);
    cr_assert_eq(outcome(o, 1), 1.0);
    prime_outcomes_destroy(o);
    text = "image,label,prediction,score\na,x,x,0.5\nb,x,y,0.5\n\"c,1\",x,x,0.5\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "out.csv", s, &o), PRIME_OK);
    cr_assert_eq(outcome(o, 0), 0.5);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(readers, outcomes_err_missing_image_column)
{
    expect_outcomes_error("name,correct\na,1\n", PRIME_E_PARSE, 1, "missing column \"image\"");
}

Test(readers, outcomes_err_missing_value_column)
{
    expect_outcomes_error("image,value\na,1\n", PRIME_E_PARSE, 1,
                          "missing column \"correct\", \"score\" or \"label\" and \"prediction\"");
}

Test(readers, outcomes_err_label_without_prediction)
{
    expect_outcomes_error("image,label\na,1\n", PRIME_E_PARSE, 1, "missing column \"prediction\"");
}

Test(readers, outcomes_err_empty_file)
{
    expect_outcomes_error("", PRIME_E_PARSE, 1, "empty file");
}

Test(readers, outcomes_err_duplicate_image)
{
    expect_outcomes_error("image,correct\na,1\nb,1\n\"c,1\",0\na,0\n", PRIME_E_DUPLICATE, 5,
                          "duplicate image \"a\" (first on line 2)");
}

Test(readers, outcomes_err_value_out_of_range)
{
    expect_outcomes_error("image,score\na,1\nb,1.01\n", PRIME_E_RANGE, 3, "score 1.01 is outside");
}

Test(readers, outcomes_err_correct_out_of_range)
{
    expect_outcomes_error("image,correct\na,1\nb,-1\n", PRIME_E_RANGE, 3, "correct must be 0 or 1");
}

Test(readers, outcomes_err_wrong_field_count)
{
    expect_outcomes_error("image,correct\na,1,2\n", PRIME_E_PARSE, 2, "expected 2 fields, found 3");
}

Test(readers, outcomes_err_bad_quote)
{
    expect_outcomes_error("image,correct\na,1\n\"b,1\n", PRIME_E_PARSE, 3, "unterminated");
}

Test(readers, outcomes_err_empty_label)
{
    expect_outcomes_error("image,label,prediction\na,,x\n", PRIME_E_PARSE, 2, "empty label");
}

Test(readers, outcomes_err_empty_image)
{
    expect_outcomes_error("image,correct\n,1\n", PRIME_E_PARSE, 2, "empty image name");
}

Test(readers, outcomes_err_image_without_outcome)
{
    expect_outcomes_error("image,correct\na,1\n\"c,1\",0\nzzz,1\n", PRIME_E_MISMATCH, 0,
                          "image \"b\" of the tag store has no outcome (1 of 3");
}

Test(readers, outcomes_err_invalid_utf8)
{
    expect_outcomes_error("image,correct\na,1\nb\xFE,1\n", PRIME_E_PARSE, 3, "invalid UTF-8");
}

/* ---- arguments, files, kind detection -------------------------------------- */

Test(readers, invalid_arguments)
{
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load_memory("x", 1, "n", NULL, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_load_memory(NULL, 5, "n", &s, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_load(NULL, &s, NULL), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_tagstore_load("x", NULL, NULL), PRIME_E_INVALID_ARG);
    prime_tagstore *store = small_store();
    cr_assert_eq(prime_outcomes_load_memory("image,correct\n", 14, "n", NULL, &o),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_outcomes_load_memory("image,correct\n", 14, "n", store, NULL),
                 PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_outcomes_load_memory(NULL, 3, "n", store, &o), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_outcomes_load(NULL, store, &o), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_outcomes_load("x", NULL, &o), PRIME_E_INVALID_ARG);
    prime_tagstore_destroy(store);
}

Test(readers, load_files)
{
    char dir[] = "/tmp/prime_readers_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char tags[256], outs[256], jl[256];
    snprintf(tags, sizeof tags, "%s/tags.csv", dir);
    snprintf(outs, sizeof outs, "%s/out.csv", dir);
    snprintf(jl, sizeof jl, "%s/tags.jsonl", dir);
    FILE *f = fopen(tags, "w");
    fputs("image,class,tags\na,c,x|y\nb,c,y\n", f);
    fclose(f);
    f = fopen(outs, "w");
    fputs("image,correct\nb,0\na,1\n", f);
    fclose(f);
    f = fopen(jl, "w");
    fputs("\n  {\"image\":\"a\",\"class\":\"c\",\"tags\":[\"x\"],\"correct\":1}\n", f);
    fclose(f);
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load(tags, &s, &o), PRIME_OK, "%s", prime_last_error());
    cr_assert_null(o);
    cr_assert_eq(prime_outcomes_load(outs, s, &o), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(outcome(o, 0), 1.0);
    cr_assert_eq(outcome(o, 1), 0.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    cr_assert_eq(prime_tagstore_load(jl, &s, &o), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), 1);
    cr_assert_eq(outcome(o, 0), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
    /* errors name the path */
    f = fopen(tags, "w");
    fputs("image,class,tags\na,c,x\na,c,y\n", f);
    fclose(f);
    cr_assert_eq(prime_tagstore_load(tags, &s, NULL), PRIME_E_DUPLICATE);
    char want[300];
    snprintf(want, sizeof want, "%s:3: duplicate image", tags);
    cr_assert(strstr(prime_last_error(), want) != NULL, "%s", prime_last_error());
    /* a missing file */
    snprintf(want, sizeof want, "%s/none.csv", dir);
    cr_assert_eq(prime_tagstore_load(want, &s, NULL), PRIME_E_IO);
    cr_assert_null(s);
    unlink(tags);
    unlink(outs);
    unlink(jl);
    rmdir(dir);
}

Test(readers, load_detects_binary_store)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(load("image,class,tags\na,c,x|y\nb,d,y\n", &s, NULL), PRIME_OK);
    char dir[] = "/tmp/prime_readers_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/store.bin", dir);
    cr_assert_eq(prime_tagstore_save(s, path), PRIME_OK, "%s", prime_last_error());
    prime_tagstore *t = NULL;
    prime_outcomes *o = (prime_outcomes *)0x1;
    cr_assert_eq(prime_tagstore_load(path, &t, &o), PRIME_OK, "%s", prime_last_error());
    cr_assert_null(o);
    cr_assert_eq(prime_tagstore_image_count(t), 2);
    cr_assert_str_eq(class_of(t, 1), "d");
    cr_assert_str_eq(tags_of(t, 0), "x|y");
    /* outcomes join against an opened binary store */
    const char *text = "image,correct\nb,1\na,0\n";
    cr_assert_eq(prime_outcomes_load_memory(text, strlen(text), "o.csv", t, &o), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(outcome(o, 1), 1.0);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(t);
    prime_tagstore_destroy(s);
    unlink(path);
    rmdir(dir);
}

/* ---- randomized round trip --------------------------------------------------- */

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)((rng_state >> 33) % n);
}

/* A random non-empty name from odd pieces; no '|' when for_tag. */
static void random_name(char *out, size_t cap, bool for_tag)
{
    static const char *const pieces[] = {"a", "b", "Z", "0", ",", "\"", "\n", "\r\n", " ", "\t",
                                         "\xC3\xA9", "\xE4\xB8\xAD", "\xF0\x9F\x98\x80", "'",
                                         "x,y", "\"\"", ";", "|"};
    size_t n = 0;
    uint32_t k = 1 + rnd(6);
    out[0] = '\0';
    for (uint32_t i = 0; i < k; i++) {
        const char *p = pieces[rnd(sizeof pieces / sizeof pieces[0])];
        if (for_tag && strchr(p, '|') != NULL)
            p = "t";
        size_t l = strlen(p);
        if (n + l + 1 >= cap)
            break;
        memcpy(out + n, p, l + 1);
        n += l;
    }
}

static void csv_field(prime__buf *b, const char *s)
{
    if (strpbrk(s, ",\"\r\n") == NULL && rnd(4) != 0) {
        prime__buf_puts(b, s);
        return;
    }
    prime__buf_putc(b, '"');
    for (const char *p = s; *p; p++) {
        if (*p == '"')
            prime__buf_putc(b, '"');
        prime__buf_putc(b, *p);
    }
    prime__buf_putc(b, '"');
}

Test(readers, csv_random_round_trip)
{
    enum { MAX_IMAGES = 60, MAX_TAGS = 6 };
    static char images[MAX_IMAGES][64], classes[MAX_IMAGES][64], tags[MAX_IMAGES][MAX_TAGS][64];
    static uint32_t ntags[MAX_IMAGES];
    static int correct[MAX_IMAGES];
    for (uint32_t round = 0; round < 300; round++) {
        rng_state = 0x1234567ull + round * 7919;
        uint32_t n = rnd(MAX_IMAGES);
        for (uint32_t i = 0; i < n; i++) {
            /* unique image names: a counter suffix */
            random_name(images[i], 48, false);
            char suffix[16];
            snprintf(suffix, sizeof suffix, "#%u", i);
            strcat(images[i], suffix);
            random_name(classes[i], 64, false);
            ntags[i] = rnd(MAX_TAGS + 1);
            for (uint32_t k = 0; k < ntags[i]; k++)
                random_name(tags[i][k], 64, true);
            correct[i] = (int)rnd(2);
        }
        /* columns in a random order with an extra one */
        const char *order[5] = {"image", "class", "tags", "correct", "note"};
        for (int k = 4; k > 0; k--) {
            int j = (int)rnd((uint32_t)k + 1);
            const char *t = order[k];
            order[k] = order[j];
            order[j] = t;
        }
        const char *eol = rnd(2) ? "\r\n" : "\n";
        prime__buf b = {0};
        if (rnd(2))
            prime__buf_puts(&b, "\xEF\xBB\xBF");
        for (int k = 0; k < 5; k++) {
            if (k > 0)
                prime__buf_putc(&b, ',');
            prime__buf_puts(&b, order[k]);
        }
        prime__buf_puts(&b, eol);
        for (uint32_t i = 0; i < n; i++) {
            for (int k = 0; k < 5; k++) {
                if (k > 0)
                    prime__buf_putc(&b, ',');
                if (strcmp(order[k], "image") == 0) {
                    csv_field(&b, images[i]);
                } else if (strcmp(order[k], "class") == 0) {
                    csv_field(&b, classes[i]);
                } else if (strcmp(order[k], "correct") == 0) {
                    prime__buf_puts(&b, correct[i] ? "1" : "0");
                } else if (strcmp(order[k], "note") == 0) {
                    csv_field(&b, "n,\"o\"\nte");
                } else {
                    char joined[512] = "";
                    for (uint32_t t = 0; t < ntags[i]; t++) {
                        if (t > 0)
                            strcat(joined, "|");
                        strcat(joined, tags[i][t]);
                    }
                    csv_field(&b, joined);
                }
            }
            prime__buf_puts(&b, eol);
            if (rnd(10) == 0)
                prime__buf_puts(&b, eol); /* a blank line */
        }
        cr_assert(!b.failed);
        prime_tagstore *s = NULL;
        prime_outcomes *o = NULL;
        prime_status st = prime_tagstore_load_memory(b.data, b.len, "r.csv", &s, &o);
        cr_assert_eq(st, PRIME_OK, "round %u: %s", round, prime_last_error());
        cr_assert_eq(prime_tagstore_image_count(s), n);
        cr_assert_not_null(o);
        for (uint32_t i = 0; i < n; i++) {
            cr_assert_str_eq(prime_tagstore_image_name(s, i), images[i]);
            cr_assert_str_eq(class_of(s, i), classes[i]);
            cr_assert_eq(outcome(o, i), (double)correct[i]);
            /* same tag set */
            uint32_t ids[MAX_TAGS], m = 0;
            cr_assert_eq(prime_tagstore_image_tags(s, i, ids, MAX_TAGS, &m), PRIME_OK);
            for (uint32_t k = 0; k < ntags[i]; k++) {
                uint32_t id;
                cr_assert_eq(prime_tagstore_find_tag(s, tags[i][k], &id), PRIME_OK);
                bool found = false;
                for (uint32_t j = 0; j < m; j++)
                    found |= ids[j] == id;
                cr_assert(found, "round %u image %u lacks tag %s", round, i, tags[i][k]);
            }
            for (uint32_t j = 0; j < m; j++) {
                const char *name = prime_tagstore_tag_name(s, ids[j]);
                bool found = false;
                for (uint32_t k = 0; k < ntags[i]; k++)
                    found |= strcmp(tags[i][k], name) == 0;
                cr_assert(found, "round %u image %u has extra tag %s", round, i, name);
            }
        }
        prime_outcomes_destroy(o);
        prime_tagstore_destroy(s);
        prime__buf_free(&b);
    }
}

/* ---- regressions found by the fuzzers ----------------------------------------- */

/* fuzz_tags_jsonl: an empty first key read the scratch buffer through a
 * NULL pointer (undefined behaviour under UBSan). */
Test(readers, fuzz_regress_jsonl_empty_first_key)
{
    const char *text = "{\"\":\"a\",\"class\":\"c\",\"tags\":[\"x\"],\"scoree=\":\"b\","
                       "\"class\":\"c\":\"b\",\"class\":\"c\",{\"\"t";
    expect_error_jl(text, PRIME_E_PARSE, 1, "duplicate key \"class\"");
    const char *good = "{\"\":1,\"image\":\"a\",\"class\":\"c\",\"tags\":[]}";
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load_memory(good, strlen(good), "t.jsonl", &s, NULL), PRIME_OK,
                 "%s", prime_last_error());
    prime_tagstore_destroy(s);
}

/* fuzz_tags_csv: a first image without tags (tagstore.c offset on a NULL
 * tag_ids array under UBSan). */
Test(readers, fuzz_regress_first_image_without_tags)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(load("image,class,tags\na,c,\nb,c,x\n", &s, NULL), PRIME_OK);
    cr_assert_str_eq(tags_of(s, 0), "");
    cr_assert_str_eq(tags_of(s, 1), "x");
    prime_tagstore_destroy(s);
}

Test(readers, load_memory_null_empty_is_empty_file)
{
    prime_tagstore *s = NULL;
    cr_assert_eq(prime_tagstore_load_memory(NULL, 0, "n.csv", &s, NULL), PRIME_E_PARSE);
    cr_assert(strstr(prime_last_error(), "n.csv:1: empty file") != NULL, "%s", prime_last_error());
    cr_assert_eq(prime__read_tags_jsonl(NULL, 0, "n.jsonl", &s, NULL), PRIME_E_PARSE);
    cr_assert_null(s);
}

/* ---- paths of the fast CSV reader ---------------------------------------- */

/* A duplicate image found only when the image index is built at the end must
 * still win over a parse error further down the file. */
Test(readers, csv_duplicate_before_a_later_error)
{
    expect_error("image,class,tags\na,c,x\nb,c,y\na,c,z\nd,c,\"unterminated\n",
                 PRIME_E_DUPLICATE, 4, "duplicate image");
}

/* Tag lists of every length class of the sorter (<= 32, 33..64, > 64), with
 * repeats, come back sorted and merged. */
Test(readers, csv_long_tag_lists)
{
    const unsigned lens[] = {31, 32, 33, 64, 65, 200};
    for (size_t li = 0; li < sizeof lens / sizeof lens[0]; li++) {
        unsigned n = lens[li];
        char *text = malloc(64 + (size_t)n * 16);
        strcpy(text, "image,class,tags\nimg,c,");
        size_t len = strlen(text);
        for (unsigned k = 0; k < n; k++) /* descending, every tag twice */
            len += (size_t)sprintf(text + len, "%st%03u|t%03u", k ? "|" : "", n - 1 - k,
                                   n - 1 - k);
        strcpy(text + len, "\n");
        prime_tagstore *s = NULL;
        cr_assert_eq(load(text, &s, NULL), PRIME_OK, "%u tags: %s", n, prime_last_error());
        uint32_t got = 0, ids[256];
        cr_assert_eq(prime_tagstore_image_tags(s, 0, ids, 256, &got), PRIME_OK);
        cr_assert_eq(got, n, "%u tags: %u came back", n, got);
        for (uint32_t k = 1; k < got; k++)
            cr_assert_lt(ids[k - 1], ids[k], "ids sorted and unique");
        char want[16];
        snprintf(want, sizeof want, "t%03u", n - 1);
        cr_assert_str_eq(prime_tagstore_tag_name(s, 0), want, "first interned is the first seen");
        prime_tagstore_destroy(s);
        free(text);
    }
}

/* Files of 8 MiB and more are read by two threads: an error in the second
 * half must still name the right line, and a good file must load whole. */
Test(readers, csv_big_file_two_reader_threads, .timeout = 120)
{
    char path[] = "/tmp/prime-big-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "wb");
    fputs("image,class,tags,correct\n", f);
    const unsigned rows = 200000; /* ~9.5 MB */
    unsigned bad_row = rows - 1000;
    for (unsigned i = 0; i < rows; i++)
        fprintf(f, "image%07u,class%02u,tag%03u|tag%03u|other%04u|long tag name %u,%u\n", i,
                i % 17, i % 101, i % 37, i % 1000, i % 7, i % 3 == 0);
    long good_size = ftell(f);
    fclose(f);
    cr_assert_gt(good_size, 8L << 20);
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load(path, &s, &o), PRIME_OK, "%s", prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s), rows);
    cr_assert_eq(prime_tagstore_class_count(s), 17);
    cr_assert_not_null(o);
    double v;
    cr_assert_eq(prime_outcomes_get(o, rows - 1, &v), PRIME_OK);
    cr_assert_float_eq(v, (rows - 1) % 3 == 0 ? 1.0 : 0.0, 0);
    prime_tagstore_destroy(s);
    prime_outcomes_destroy(o);

    /* the same file with one invalid UTF-8 byte near its end */
    f = fopen(path, "wb");
    fputs("image,class,tags,correct\n", f);
    for (unsigned i = 0; i < rows; i++)
        fprintf(f, "image%07u,class%02u,tag%03u|tag%03u|other%04u|long tag name %u%s,%u\n", i,
                i % 17, i % 101, i % 37, i % 1000, i % 7, i == bad_row ? "\xff" : "", i % 3 == 0);
    fclose(f);
    s = (prime_tagstore *)0x1;
    prime_status st = prime_tagstore_load(path, &s, NULL);
    const char *msg = prime_last_error();
    cr_assert_eq(st, PRIME_E_PARSE, "%s", msg);
    cr_assert_null(s);
    char want[300];
    snprintf(want, sizeof want, "%s:%u: ", path, bad_row + 2); /* header is line 1 */
    cr_assert(strncmp(msg, want, strlen(want)) == 0, "message \"%s\" does not start with \"%s\"",
              msg, want);
    cr_assert(strstr(msg, "UTF-8") != NULL, "%s", msg);
    unlink(path);
}
