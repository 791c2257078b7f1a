/* The one reader and the one writer (prime/file.h), the CSV writers, the
 * labels reader, the line reader, prime_classifier_classify_files and the
 * strict number parsers (suite api). */
#include <criterion/criterion.h>
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "prime/prime.h"
#include "prime/sys/backend.h"

static char dir[256];

static void make_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/prime_test_files.XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void free_slurped(void);

static void remove_dir(void)
{
    free_slurped();
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(files, .init = make_dir, .fini = remove_dir);

static char *path_of(const char *name)
{
    static char buf[4][600];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static void put(const char *name, const char *text)
{
    FILE *f = fopen(path_of(name), "wb");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

/* The content of a file of dir; valid until the fourth call after (the
 * buffers go round, and the last ones are freed by the suite's fini). */
static void *slurped[4];
static int slurp_k;

static void free_slurped(void)
{
    for (int k = 0; k < 4; k++) {
        prime_file_free(slurped[k]);
        slurped[k] = NULL;
    }
}

static char *slurp(const char *name)
{
    void *d = NULL;
    uint64_t n = 0;
    cr_assert_eq(prime_file_read(path_of(name), 0, &d, &n), PRIME_OK, "%s", prime_last_error());
    slurp_k = (slurp_k + 1) % 4;
    prime_file_free(slurped[slurp_k]);
    slurped[slurp_k] = d;
    return d;
}

/* entries of dir whose name starts with ".prime-" */
static int temps_left(void)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        n += strncmp(e->d_name, ".prime-", 7) == 0;
    closedir(d);
    return n;
}

Test(files, read_refuses_what_is_not_a_regular_file)
{
    void *d = (void *)1;
    uint64_t n = 7;
    cr_assert_eq(prime_file_read(dir, 0, &d, &n), PRIME_E_IO);
    cr_assert_null(d);
    cr_assert_eq(n, 0);
    cr_assert(strstr(prime_last_error(), "is a directory, not a file") != NULL);
    cr_assert_eq(mkfifo(path_of("fifo"), 0600), 0);
    cr_assert_eq(prime_file_read(path_of("fifo"), 0, &d, &n), PRIME_E_IO); /* never waits */
    cr_assert(strstr(prime_last_error(), "is a FIFO (named pipe)") != NULL);
    cr_assert_eq(prime_file_read("/dev/zero", 0, &d, &n), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "/dev/zero: is a device") != NULL);
    cr_assert_eq(prime_file_read(path_of("none"), 0, &d, &n), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "cannot open") != NULL);
    cr_assert_eq(prime_file_read("", 0, &d, &n), PRIME_E_INVALID_ARG);
}

Test(files, read_limit)
{
    put("ten", "0123456789");
    void *d = NULL;
    uint64_t n = 0;
    cr_assert_eq(prime_file_read(path_of("ten"), 9, &d, &n), PRIME_E_LIMIT);
    cr_assert(strstr(prime_last_error(), "10 bytes, more than the limit of 9 bytes") != NULL,
              "%s", prime_last_error());
    cr_assert_eq(prime_file_read(path_of("ten"), 10, &d, &n), PRIME_OK);
    cr_assert_eq(n, 10);
    cr_assert_str_eq(d, "0123456789");
    prime_file_free(d);
}

Test(files, writer_all_or_none)
{
    put("a", "old a");
    put("b", "old b");
    prime_writer *w = NULL;
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("a"), "new a", 5), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("b"), "new b", 5), PRIME_OK);
    cr_assert_eq(temps_left(), 2);
    cr_assert_str_eq(slurp("a"), "old a"); /* nothing replaced before the commit */
    prime_writer_destroy(w);               /* no commit: the old files stay */
    cr_assert_eq(temps_left(), 0);
    cr_assert_str_eq(slurp("a"), "old a");
    cr_assert_str_eq(slurp("b"), "old b");

    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("a"), "new a", 5), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, "/dev/full", "x", 1), PRIME_OK); /* in place */
    cr_assert_eq(prime_writer_commit(w), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "/dev/full: cannot write") != NULL);
    prime_writer_destroy(w);
    cr_assert_str_eq(slurp("a"), "old a"); /* the device failed first: a kept */
    cr_assert_eq(temps_left(), 0);

    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("a"), "new a", 5), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("c"), "new c", 5), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, "/dev/null", "x", 1), PRIME_OK);
    cr_assert_eq(prime_writer_commit(w), PRIME_OK);
    cr_assert_eq(prime_writer_commit(w), PRIME_E_STATE);
    prime_writer_destroy(w);
    cr_assert_str_eq(slurp("a"), "new a");
    cr_assert_str_eq(slurp("c"), "new c");
    struct stat sb;
    cr_assert_eq(stat("/dev/null", &sb), 0);
    cr_assert(S_ISCHR(sb.st_mode));
    cr_assert_eq(temps_left(), 0);
}

Test(files, writer_refuses_inputs_and_twice_given_outputs)
{
    put("in", "input");
    cr_assert_eq(link(path_of("in"), path_of("hard")), 0);
    cr_assert_eq(symlink("in", path_of("soft")), 0);
    prime_writer *w = NULL;
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add_input(w, path_of("in")), PRIME_OK);
    cr_assert_eq(prime_writer_add_input(w, path_of("missing")), PRIME_OK);
    const char *outs[] = {"in", "hard", "soft"};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(prime_writer_check(w, path_of(outs[k])), PRIME_E_INVALID_ARG);
        cr_assert_eq(prime_writer_add(w, path_of(outs[k]), "x", 1), PRIME_E_INVALID_ARG);
        cr_assert(strstr(prime_last_error(), "is also the input") != NULL);
    }
    cr_assert_eq(prime_writer_add(w, path_of("out"), "1", 1), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("./out"), "2", 1), PRIME_E_INVALID_ARG);
    cr_assert(strstr(prime_last_error(), "is also the output") != NULL);
    cr_assert_eq(prime_writer_add(w, dir, "2", 1), PRIME_E_IO);
    cr_assert(strstr(prime_last_error(), "is a directory") != NULL);
    cr_assert_eq(prime_writer_add(w, "", "2", 1), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_writer_commit(w), PRIME_OK);
    prime_writer_destroy(w);
    cr_assert_str_eq(slurp("out"), "1");
    cr_assert_str_eq(slurp("in"), "input");
    /* an output added first, then named as an input */
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("out"), "3", 1), PRIME_OK);
    cr_assert_eq(prime_writer_add_input(w, path_of("out")), PRIME_E_INVALID_ARG);
    prime_writer_destroy(w);
    cr_assert_str_eq(slurp("out"), "1");
}

Test(files, writer_follows_symbolic_links_and_takes_long_names)
{
    put("target", "old");
    cr_assert_eq(symlink("target", path_of("link")), 0);
    cr_assert_eq(prime_file_write(path_of("link"), "new", 3), PRIME_OK);
    struct stat sb;
    cr_assert_eq(lstat(path_of("link"), &sb), 0);
    cr_assert(S_ISLNK(sb.st_mode), "the link was replaced");
    cr_assert_str_eq(slurp("target"), "new");
    char name[256];
    memset(name, 'n', 255);
    name[255] = '\0';
    cr_assert_eq(prime_file_write(path_of(name), "long", 4), PRIME_OK, "%s", prime_last_error());
    cr_assert_str_eq(slurp(name), "long");
    /* the new file gets 0666 less the umask */
    mode_t um = umask(022);
    cr_assert_eq(prime_file_write(path_of("mode"), "m", 1), PRIME_OK);
    umask(um);
    cr_assert_eq(stat(path_of("mode"), &sb), 0);
    cr_assert_eq(sb.st_mode & 0777, 0644);
    cr_assert_eq(temps_left(), 0);
}

Test(files, remove_temps_for_a_signal_handler)
{
    prime_writer *w = NULL;
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("x"), "x", 1), PRIME_OK);
    cr_assert_eq(prime_writer_add(w, path_of("y"), "y", 1), PRIME_OK);
    cr_assert_eq(temps_left(), 2);
    cr_assert_eq(prime_writer_remove_temps(), 2);
    cr_assert_eq(temps_left(), 0);
    cr_assert_eq(prime_writer_commit(w), PRIME_E_IO); /* the interrupted write fails */
    prime_writer_destroy(w);
    cr_assert_eq(access(path_of("x"), F_OK), -1);
    cr_assert_eq(prime_writer_remove_temps(), 0);
}

Test(files, csv_writers_round_trip)
{
    const char *text = "image,class,tags,correct\n"
                       "\"a,1\",ape,dark|tree,1\n"
                       "a2,ape,,0\n"
                       "\"b\"\"q\",\"bee \"\"x\"\"\",wet,1\n";
    prime_tagstore *s = NULL;
    prime_outcomes *o = NULL;
    cr_assert_eq(prime_tagstore_load_memory(text, strlen(text), "t", &s, &o), PRIME_OK, "%s",
                 prime_last_error());
    prime_writer *w = NULL;
    cr_assert_eq(prime_writer_create(&w), PRIME_OK);
    cr_assert_eq(prime_tagstore_write_csv(s, w, path_of("tags.csv")), PRIME_OK);
    cr_assert_eq(prime_outcomes_write_csv(o, s, w, path_of("o.csv")), PRIME_OK);
    cr_assert_eq(prime_tagstore_save_to(s, w, path_of("s.prime")), PRIME_OK);
    cr_assert_eq(prime_writer_commit(w), PRIME_OK);
    prime_writer_destroy(w);
    cr_assert_str_eq(slurp("tags.csv"), "image,class,tags\n"
                                        "\"a,1\",ape,dark|tree\n"
                                        "a2,ape,\n"
                                        "\"b\"\"q\",\"bee \"\"x\"\"\",wet\n");
    cr_assert_str_eq(slurp("o.csv"), "image,correct\n\"a,1\",1\na2,0\n\"b\"\"q\",1\n");
    prime_tagstore *s2 = NULL;
    prime_outcomes *o2 = NULL;
    cr_assert_eq(prime_tagstore_load(path_of("s.prime"), &s2, NULL), PRIME_OK);
    cr_assert_eq(prime_outcomes_load(path_of("o.csv"), s2, &o2), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_tagstore_image_count(s2), 3);
    prime_outcomes_destroy(o2);
    prime_tagstore_destroy(s2);
    prime_outcomes_destroy(o);
    prime_tagstore_destroy(s);
}

Test(files, predictions_csv_takes_any_class_name)
{
    const char *images[] = {"a.png", "b,c.png"};
    const char *labels[] = {"cat|dog", "x"};
    const char *preds[] = {"cat|dog", "\"y\""};
    cr_assert_eq(prime_outcomes_write_predictions_csv(images, labels, preds, 2, NULL,
                                                      path_of("p.csv")),
                 PRIME_OK);
    cr_assert_str_eq(slurp("p.csv"), "image,label,prediction,correct\n"
                                     "a.png,cat|dog,cat|dog,1\n"
                                     "\"b,c.png\",x,\"\"\"y\"\"\",0\n");
    const char *bad[] = {"a.png", "\xff"};
    cr_assert_eq(prime_outcomes_write_predictions_csv(images, labels, bad, 2, NULL,
                                                      path_of("q.csv")),
                 PRIME_E_PARSE);
    cr_assert_eq(access(path_of("q.csv"), F_OK), -1);
}

Test(files, labels)
{
    const char *text = "\xEF\xBB\xBFx,image,label\r\n1,a.png,\"cat\nline\"\r\n2,\"b,1.png\",dog\r\n";
    prime_labels *l = NULL;
    cr_assert_eq(prime_labels_load_memory(text, strlen(text), "l.csv", &l), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_labels_count(l), 2);
    cr_assert_str_eq(prime_labels_find(l, "a.png"), "cat\nline");
    cr_assert_str_eq(prime_labels_find(l, "b,1.png"), "dog");
    cr_assert_null(prime_labels_find(l, "c.png"));
    prime_labels_destroy(l);
    const char *dup = "image,label\na,x\nb,y\na,z\n";
    cr_assert_eq(prime_labels_load_memory(dup, strlen(dup), "d.csv", &l), PRIME_E_DUPLICATE);
    cr_assert_null(l);
    cr_assert_str_eq(prime_last_error(), "d.csv:4: image \"a\" listed twice (first on line 2)");
    const char *empty = "image,label\na,\n";
    cr_assert_eq(prime_labels_load_memory(empty, strlen(empty), "e.csv", &l), PRIME_E_PARSE);
    cr_assert_str_eq(prime_last_error(), "e.csv:2: empty label");
    cr_assert_eq(prime_labels_load(dir, &l), PRIME_E_IO);
}

/* The line reader: BOM, CRLF, blank lines and comments as every text
 * reader takes them; names by their place; errors name the file and line. */
static prime_status lines_of(const char *text, uint32_t flags, prime_lines **l)
{
    return prime_lines_load_memory(text, strlen(text), "v.txt", flags, l);
}

Test(files, lines)
{
    prime_lines *l = NULL;
    cr_assert_eq(lines_of("\xEF\xBB\xBF" "a b\r\n\r\n  \t\n# c\nd\n\n", 0, &l), PRIME_OK, "%s",
                 prime_last_error());
    cr_assert_eq(prime_lines_count(l), 3);
    cr_assert_str_eq(prime_lines_get(l, 0), "a b");
    cr_assert_str_eq(prime_lines_get(l, 1), "# c");
    cr_assert_str_eq(prime_lines_get(l, 2), "d");
    cr_assert_null(prime_lines_get(l, 3));
    prime_lines_destroy(l);
    /* comments skipped; no end-of-line at the end; the same lines twice */
    cr_assert_eq(lines_of("# x\nimg/1.png\n#y\nimg/1.png", PRIME_LINES_COMMENTS, &l), PRIME_OK);
    cr_assert_eq(prime_lines_count(l), 2);
    cr_assert_str_eq(prime_lines_get(l, 1), "img/1.png");
    prime_lines_destroy(l);
    /* names: blank lines at the end only, distinct, no '|', 255 bytes */
    cr_assert_eq(lines_of("\xEF\xBB\xBF" "cat\r\ndog\r\n\r\n \n", PRIME_LINES_NAMES, &l), PRIME_OK);
    cr_assert_eq(prime_lines_count(l), 2);
    prime_lines_destroy(l);
    cr_assert_eq(lines_of("cat\n\ndog\n", PRIME_LINES_NAMES, &l), PRIME_E_PARSE);
    cr_assert_null(l);
    cr_assert_str_eq(prime_last_error(),
                     "v.txt:2: a blank line (names are one a line; blank lines only at the end)");
    cr_assert_eq(lines_of("\ncat\n", PRIME_LINES_NAMES, &l), PRIME_E_PARSE);
    cr_assert(strncmp(prime_last_error(), "v.txt:1: a blank line", 21) == 0);
    cr_assert_eq(lines_of("cat\ndog\ncat\n", PRIME_LINES_NAMES, &l), PRIME_E_DUPLICATE);
    cr_assert_str_eq(prime_last_error(), "v.txt:3: \"cat\" is also line 1");
    cr_assert_eq(lines_of("cat\na|b\n", PRIME_LINES_NAMES | PRIME_LINES_NO_BAR, &l),
                 PRIME_E_PARSE);
    cr_assert_str_eq(prime_last_error(), "v.txt:2: the name \"a|b\" holds '|'");
    cr_assert_eq(lines_of("cat\na|b\n", PRIME_LINES_NAMES, &l), PRIME_OK); /* class names */
    cr_assert_str_eq(prime_lines_get(l, 1), "a|b");
    prime_lines_destroy(l);
    char long_name[300];
    memset(long_name, 'x', 256);
    strcpy(long_name + 256, "\n");
    cr_assert_eq(lines_of(long_name, PRIME_LINES_NAMES, &l), PRIME_E_LIMIT);
    cr_assert_str_eq(prime_last_error(), "v.txt:1: a name of 256 bytes (at most 255)");
    long_name[255] = '\n';
    long_name[256] = '\0';
    cr_assert_eq(lines_of(long_name, PRIME_LINES_NAMES, &l), PRIME_OK);
    cr_assert_eq(strlen(prime_lines_get(l, 0)), 255);
    prime_lines_destroy(l);
    /* what no text reader takes */
    cr_assert_eq(lines_of("a\nb\rc\n", 0, &l), PRIME_E_PARSE);
    cr_assert_str_eq(prime_last_error(), "v.txt:2: a carriage return not followed by a line feed");
    cr_assert_eq(lines_of("a\n\xC3\n", 0, &l), PRIME_E_PARSE);
    cr_assert(strncmp(prime_last_error(), "v.txt:2: invalid UTF-8", 22) == 0);
    cr_assert_eq(prime_lines_load_memory("a\n\0b\n", 5, "v.txt", 0, &l), PRIME_E_PARSE);
    cr_assert(strncmp(prime_last_error(), "v.txt:2: NUL byte", 17) == 0);
    cr_assert_eq(lines_of("", 0, &l), PRIME_E_PARSE);
    cr_assert_str_eq(prime_last_error(), "v.txt: no lines (the file is empty or blank)");
    cr_assert_eq(lines_of("\xEF\xBB\xBF \r\n# only\n", PRIME_LINES_COMMENTS, &l), PRIME_E_PARSE);
    cr_assert_eq(lines_of("a\n", 8, &l), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_lines_load_memory(NULL, 1, NULL, 0, &l), PRIME_E_INVALID_ARG);
    cr_assert_eq(prime_lines_load_memory("a", 1, NULL, 0, NULL), PRIME_E_INVALID_ARG);
    /* through the one reader: a folder is refused, a file is read */
    cr_assert_eq(prime_lines_load(dir, 0, &l), PRIME_E_IO);
    cr_assert_null(l);
    put("v.txt", "one\r\ntwo\r\n");
    cr_assert_eq(prime_lines_load(path_of("v.txt"), PRIME_LINES_NAMES, &l), PRIME_OK);
    cr_assert_eq(prime_lines_count(l), 2);
    cr_assert_str_eq(prime_lines_get(l, 1), "two");
    prime_lines_destroy(l);
    prime_lines_destroy(NULL);
    cr_assert_eq(prime_lines_count(NULL), 0);
    cr_assert_null(prime_lines_get(NULL, 0));
}

/* A classifier over the image's width: class (width mod 3), names with '|'. */
static const char *const pipe_names[3] = {"a|b", "c", "d|e|f"};
static void pc_destroy(void *self) { (void)self; }
static uint32_t pc_count(void *self) { (void)self; return 3; }
static const char *pc_name(void *self, uint32_t i) { (void)self; return pipe_names[i]; }
static prime_status pc_classify(void *self, const prime_image *const *images, uint32_t n,
                                float *scores)
{
    (void)self;
    for (uint32_t i = 0; i < n; i++)
        for (uint32_t k = 0; k < 3; k++)
            scores[i * 3 + k] = prime_image_width(images[i]) % 3 == k ? 1.0f : 0.0f;
    return PRIME_OK;
}

Test(files, classify_files_with_bars_in_class_names)
{
    prime_classifier_backend b = PRIME_CLASSIFIER_BACKEND_INIT;
    b.destroy = pc_destroy;
    b.class_count = pc_count;
    b.class_name = pc_name;
    b.classify = pc_classify;
    prime_classifier *c = NULL;
    cr_assert_eq(prime_classifier_create_from(&b, &c), PRIME_OK, "%s", prime_last_error());
    const char *root = getenv("PRIME_TEST_DATA");
    cr_assert_not_null(root);
    char p[3][512];
    /* tests/data/tag: cat/a.png 8x4, "cat/b b.png" 4x8, dog/c.png 6x6 */
    snprintf(p[0], sizeof p[0], "%s/tag/cat/a.png", root);
    snprintf(p[1], sizeof p[1], "%s/tag/cat/b b.png", root);
    snprintf(p[2], sizeof p[2], "%s/tag/nothing.png", root);
    const char *paths[4] = {p[0], p[1], p[2], p[0]};
    uint32_t pred[4], failed = 9;
    for (uint32_t threads = 1; threads <= 3; threads++) {
        prime_files_options fo = PRIME_FILES_OPTIONS_INIT;
        fo.threads = threads;
        fo.batch = 2;
        cr_assert_neq(prime_classifier_classify_files(c, paths, 4, &fo, pred, &failed), PRIME_OK);
        cr_assert_eq(failed, 1);
        cr_assert_eq(pred[0], 2); /* 8 % 3 */
        cr_assert_eq(pred[1], 1); /* 4 % 3 */
        cr_assert_eq(pred[2], PRIME_NONE);
        cr_assert_eq(pred[3], 2);
    }
    cr_assert_str_eq(prime_classifier_class_name(c, pred[0]), "d|e|f");
    cr_assert_eq(prime_classifier_classify_files(c, paths, 2, NULL, pred, &failed), PRIME_OK);
    cr_assert_eq(failed, 0);
    prime_files_options tiny = PRIME_FILES_OPTIONS_INIT;
    tiny.struct_size = 4;
    cr_assert_eq(prime_classifier_classify_files(c, paths, 2, &tiny, pred, NULL),
                 PRIME_E_INVALID_ARG);
    prime_classifier_destroy(c);
}

Test(files, strict_numbers)
{
    uint64_t u = 7;
    cr_assert_eq(prime_parse_u64("18446744073709551615", &u), PRIME_OK);
    cr_assert_eq(u, UINT64_MAX);
    const char *bad[] = {" 1", "1 ", "-1", " -1", "+1", "18446744073709551616", "", "0x10", "1e3"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        u = 7;
        cr_assert_eq(prime_parse_u64(bad[k], &u), PRIME_E_PARSE, "'%s'", bad[k]);
        cr_assert_eq(u, 7);
    }
    double d = 0;
    cr_assert_eq(prime_parse_double("-1.5e-3", &d), PRIME_OK);
    cr_assert_eq(d, -1.5e-3);
    const char *badd[] = {" 0.5", "0.5 ", "nan", "inf", "0x1p-1", "", "1e999"};
    for (size_t k = 0; k < sizeof badd / sizeof badd[0]; k++)
        cr_assert_eq(prime_parse_double(badd[k], &d), PRIME_E_PARSE, "'%s'", badd[k]);
}
