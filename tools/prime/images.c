/* The images of `prime tag` and `prime classify`: the files of --images (a
 * folder or a list file), their names and their classes (--labels or the
 * parent folder). Files are read through the library's reader. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static int strvec_push(strvec *s, char *x)
{
    if (x == NULL)
        return 0;
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        char **nv = realloc(s->v, nc * sizeof *nv);
        if (nv == NULL) {
            free(x);
            return 0;
        }
        s->v = nv;
        s->cap = nc;
    }
    s->v[s->n++] = x;
    return 1;
}

void strvec_free(strvec *s)
{
    for (size_t i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
}

static char *join_path(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    char *p = malloc(la + lb + 2);
    if (p == NULL)
        return NULL;
    memcpy(p, a, la);
    size_t k = la;
    if (la > 0 && a[la - 1] != '/')
        p[k++] = '/';
    memcpy(p + k, b, lb + 1);
    return p;
}

static int has_image_ext(const char *name)
{
    static const char *const exts[] = {".jpg", ".jpeg", ".png", ".bmp", ".tga", ".gif"};
    const char *dot = strrchr(name, '.');
    if (dot == NULL)
        return 0;
    for (size_t k = 0; k < sizeof exts / sizeof exts[0]; k++)
        if (strcasecmp(dot, exts[k]) == 0)
            return 1;
    return 0;
}

/* Collect image files under root/rel (rel = "" at the top), names relative
 * to root. Hidden entries are skipped. */
static int walk_images(const char *root, const char *rel, strvec *out)
{
    char *dir = rel[0] ? join_path(root, rel) : strdup(root);
    if (dir == NULL)
        return 0;
    DIR *d = opendir(dir);
    if (d == NULL) {
        fprintf(stderr, "%s: %s: cannot open: %s\n", prog, dir, strerror(errno));
        free(dir);
        return 0;
    }
    int ok = 1;
    struct dirent *e;
    while (ok && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char *r = rel[0] ? join_path(rel, e->d_name) : strdup(e->d_name);
        char *full = r ? join_path(root, r) : NULL;
        struct stat st;
        if (r == NULL || full == NULL) {
            ok = 0;
        } else if (stat(full, &st) != 0) {
            fprintf(stderr, "%s: %s: %s\n", prog, full, strerror(errno));
            ok = 0;
        } else if (S_ISDIR(st.st_mode)) {
            ok = walk_images(root, r, out);
        } else if (S_ISREG(st.st_mode) && has_image_ext(e->d_name)) {
            ok = strvec_push(out, r);
            r = NULL;
        }
        free(r);
        free(full);
    }
    closedir(d);
    free(dir);
    return ok;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* An image named twice in a list file, refused before any is read (the
 * store would refuse the second after every image was tagged): 0 after a
 * message, else 1. Items are counted as the list's lines that are not
 * blank or comments. */
typedef struct {
    const char *name;
    size_t item;
} named_item;

static int cmp_named_item(const void *a, const void *b)
{
    const named_item *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : x->item < y->item ? -1 : 1;
}

static int refuse_listed_twice(const char *list, const strvec *names)
{
    if (names->n < 2)
        return 1;
    named_item *v = malloc(names->n * sizeof *v);
    if (v == NULL)
        return fail("%s: out of memory", list), 0;
    for (size_t i = 0; i < names->n; i++)
        v[i] = (named_item){names->v[i], i};
    qsort(v, names->n, sizeof *v, cmp_named_item);
    size_t first = 0, second = SIZE_MAX;
    for (size_t i = 1; i < names->n; i++)
        if (strcmp(v[i - 1].name, v[i].name) == 0 && v[i].item < second) {
            size_t f = i - 1;
            while (f > 0 && strcmp(v[f - 1].name, v[i].name) == 0)
                f--;
            first = v[f].item;
            second = v[i].item;
        }
    free(v);
    if (second == SIZE_MAX)
        return 1;
    return fail("%s: image \"%s\" is listed twice (items %zu and %zu, not counting blank "
                "lines and comments)", list, names->v[second], first + 1, second + 1), 0;
}

/* The class from the parent folder's name of path; NULL after a message. */
static char *folder_class(const char *path)
{
    char *p = strdup(path);
    if (p == NULL)
        return NULL;
    char *s = strrchr(p, '/');
    if (s != NULL)
        *s = '\0';
    while ((s = strrchr(p, '/')) != NULL && s[1] == '\0')
        *s = '\0';
    const char *folder = s != NULL ? s + 1 : (strrchr(path, '/') ? p : ".");
    char cwd[4096];
    if (folder[0] == '\0' || strcmp(folder, ".") == 0 || strcmp(folder, "..") == 0) {
        folder = getcwd(cwd, sizeof cwd) && strrchr(cwd, '/') ? strrchr(cwd, '/') + 1 : "";
        if (folder[0] == '\0') {
            fail("%s: no parent folder to take a class from; give --labels", path);
            free(p);
            return NULL;
        }
    }
    char *r = strdup(folder);
    free(p);
    return r;
}

int collect_images(const char *images, const char *labels_path, const char *output,
                   strvec *paths, strvec *names, strvec *classes)
{
    int ok = 1;
    struct stat st_in;
    if (stat(images, &st_in) != 0)
        return fail("%s: %s", images, strerror(errno)), 0;
    if (S_ISDIR(st_in.st_mode)) {
        ok = walk_images(images, "", names);
        if (ok && names->n > 1)
            qsort(names->v, names->n, sizeof *names->v, cmp_str);
        for (size_t i = 0; ok && i < names->n; i++)
            ok = strvec_push(paths, join_path(images, names->v[i]));
    } else {
        /* a list file: the library's line reader (BOM, CRLF, blank lines and
           # comments skipped); relative paths are relative to its folder */
        prime_lines *lines = NULL;
        prime_status st = prime_lines_load(images, PRIME_LINES_COMMENTS, &lines);
        if (st != PRIME_OK)
            return lib_error(st), 0;
        char *base = strdup(images), *slash = base ? strrchr(base, '/') : NULL;
        if (slash != NULL)
            slash[1] = '\0';
        else if (base != NULL)
            base[0] = '\0';
        for (uint32_t i = 0; base != NULL && ok && i < prime_lines_count(lines); i++) {
            const char *line = prime_lines_get(lines, i);
            ok = strvec_push(names, strdup(line)) &&
                 strvec_push(paths, line[0] == '/' || base[0] == '\0' ? strdup(line)
                                                                      : join_path(base, line));
        }
        if (base == NULL || !ok) {
            fail("%s: out of memory", images);
            ok = 0;
        }
        prime_lines_destroy(lines);
        free(base);
        if (ok)
            ok = refuse_listed_twice(images, names);
    }
    if (!ok)
        return 0;
    if (names->n == 0)
        return fail("%s: no images (JPEG, PNG, BMP, TGA, GIF) found", images), 0;
    if (names->n > UINT32_MAX - 1)
        return fail("too many images"), 0;
    /* the output is none of the images (read before it is written) */
    output_id oid;
    output_id_init(&oid, output);
    for (size_t i = 0; oid.exists && i < paths->n; i++)
        if (output_id_refuse(&oid, paths->v[i]) != 0)
            return 0;
    prime_labels *labels = NULL;
    if (labels_path != NULL) {
        prime_status st = prime_labels_load(labels_path, &labels);
        if (st != PRIME_OK)
            return lib_error(st), 0;
    }
    for (size_t i = 0; ok && i < names->n; i++) {
        if (labels != NULL) {
            const char *cls = prime_labels_find(labels, names->v[i]);
            if (cls == NULL) {
                fail("%s: image %s has no label", labels_path, names->v[i]);
                ok = 0;
            } else {
                ok = strvec_push(classes, strdup(cls));
            }
        } else {
            char *cls = folder_class(paths->v[i]);
            ok = cls != NULL && strvec_push(classes, cls);
        }
    }
    prime_labels_destroy(labels);
    return ok;
}
