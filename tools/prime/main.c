/* prime: the command-line face of libprime (usage below; cli.h says which
 * file does what).
 *
 * Exit status: 0 on success, 2 on bad usage, 1 on bad input or failure,
 * also when stdout cannot take the output (a full disk, a closed pipe).
 * SIGINT, SIGTERM and SIGHUP remove the temporary files of the outputs
 * being written (prime_writer_remove_temps) before the program dies of the
 * signal; the renames that finish a command's outputs are not interrupted
 * (prime_writer_commit holds the signals around them, and only them). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "scale.h"

const char *const prog = "prime";

static const char usage_text[] =
    "usage: prime search --tags FILE [--outcomes FILE] [--max-tags L] [--min-size S]\n"
    "                    [--min-drop A] [--min-gain B1,B2,...] [--min-tag-count K]\n"
    "                    [--threads N] [--whole-dataset] [--fold-equal]\n"
    "                    [--max-modes N] [--stream] [--format json|csv|text]\n"
    "                    [--output FILE]\n"
    "       prime convert --tags FILE --output STORE [--outcomes-output FILE]\n"
    "       prime info FILE\n"
    "       prime eval --result R.json --tags FILE [--outcomes FILE] [--fdr Q]\n"
    "                  [--hypotheses M] [--format json|text] [--output FILE]\n"
    "       prime eval --quality --result R.json --tags FILE --image-embeddings E\n"
    "                  [--image-ids IDS] [--dim D]\n"
    "                  (--text-embeddings T | --text-model clip_text.pt [--bpe F]\n"
    "                   [--device D] [--dtype T])\n"
    "                  [--format json|text] [--output FILE]\n"
    "       prime report --result R.json --tags FILE [--outcomes FILE] --images DIR\n"
    "                    [--per-mode N] [--seed S] --output report.html\n"
    "       prime tokenize [--bpe FILE] [--full] TEXT...  (CLIP token ids, a line per TEXT)\n"
    "       prime tag --images DIR|LIST --backend properties|torch|zeroshot\n"
    "                 [--labels L.csv] [--thresholds T | --threshold X] [--top-k K]\n"
    "                 [--rule above|at-least] [--threads N] [--batch B] --output tags.csv\n"
    "                 torch:    --model M.pt --vocab V.txt [--scores logits|probabilities]\n"
    "                 zeroshot: --image-model img.pt --text-model txt.pt [--bpe F]\n"
    "                           --vocab V.txt [--prompt 'a photo of {}']\n"
    "                 torch, zeroshot: [--size N] [--resize S] [--mean R,G,B] [--std R,G,B]\n"
    "                           [--jpeg-draft on|off]\n"
    "       prime classify --model M.pt --images DIR|LIST [--labels L.csv]\n"
    "                 [--classes C.txt] [--size N] [--resize S] [--mean R,G,B]\n"
    "                 [--std R,G,B] [--jpeg-draft on|off] [--threads N] [--batch B]\n"
    "                 --output outcomes.csv\n"
    "       prime --version | --help\n";

/* The commands' descriptions, printed after usage_text by --help (two
 * arrays: each stays under the 4095 bytes C99 promises for a literal). */
static const char help_text[] =
    "\n"
    "search   find the failure modes of a classifier (PRIME): tag combinations under\n"
    "         which accuracy drops by at least A, in groups of at least S images.\n"
    "         FILE may be a tags CSV, JSON Lines, or a binary store.\n"
    "convert  write a binary store from a tags CSV or JSON Lines file.\n"
    "info     summarise a tags file or binary store.\n"
    "tag      tag every image of DIR (recursively) or LIST (one path a line) with a\n"
    "         backend (properties: dark, bright, blurry, noisy, colours, ...; no model;\n"
    "         torch: a TorchScript tagger such as RAM; zeroshot: cosine similarity of\n"
    "         CLIP image and prompt embeddings) and write the tags CSV; the class is\n"
    "         the label of --labels (image,label) or the image's parent folder name.\n"
    "         torch and zeroshot load libprime-torch at run time ($PRIME_TORCH_LIBRARY,\n"
    "         else the installed one). A tag is selected when its score is above its\n"
    "         threshold (--rule above; RAM's rule and the default of torch) or at least\n"
    "         it (--rule at-least; the default of properties and zeroshot).\n"
    "classify run a TorchScript classifier on the images and write the outcomes CSV\n"
    "         (image,label,prediction,correct) for prime search; labels as for tag,\n"
    "         class names from --classes (one a line; default 0, 1, ...).\n"
    "eval     measure the failure modes of a search result (R.json) on another split:\n"
    "         test accuracy and drop, Wilson interval, p-value, parents; with --fdr Q\n"
    "         Benjamini-Hochberg discoveries over M hypotheses (default: the result's\n"
         "         candidate count, else its number of modes).\n"
    "         With --quality: description quality of the modes (similarity, specificity,\n"
    "         coherency) from image embeddings (.npy or raw float32 with --dim, one row\n"
    "         per image in store order, or keyed by the names of --image-ids) and one\n"
    "         text embedding per mode (in the result's order), or the modes'\n"
    "         descriptions embedded by a CLIP text model (libprime-torch).\n"
    "report   write one self-contained HTML page of the failure modes of R.json measured\n"
    "         on FILE: per class its modes by drop, accuracy bars, size, interval,\n"
    "         parents and N (default 8) sample images per mode from DIR/<image name>,\n"
    "         chosen at random with seed S (default 0), wrong ones marked.";

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} commands[] = {
    {"search", cmd_search}, {"convert", cmd_convert}, {"info", cmd_info},
    {"eval", cmd_eval},     {"report", cmd_report},   {"tokenize", cmd_tokenize},
    {"tag", cmd_tag},       {"classify", cmd_classify}, {"merge", cmd_merge},
};
enum { N_COMMANDS = sizeof commands / sizeof commands[0] };

/* --help: usage_text, then help_text. */
static int help_errno; /* errno of a failed write of the help text */

static void print_help(void)
{
    /* more than stdout's buffer: the write happens here, not in the final
       fflush, so its errno is kept for finish_stdout */
    if (fputs(usage_text, stdout) == EOF || fputs(help_text, stdout) == EOF ||
        fputs(scale_usage_text, stdout) == EOF) /* tagging at scale (scale.c) */
        help_errno = errno;
}

/* Everything printed on stdout must have reached it: exit 1 otherwise. */
static int finish_stdout(int rc)
{
    errno = 0;
    int bad = ferror(stdout);
    if (fflush(stdout) != 0)
        bad = 1;
    if (bad && rc == 0) { /* a command that failed has said why already */
        int e = errno != 0 ? errno : help_errno;
        fail("cannot write the output: %s", e != 0 ? strerror(e) : "write error");
        return EXIT_FAIL;
    }
    return rc;
}

static int run(int argc, char **argv)
{
    if (argc < 2) {
        char list[256] = "";
        for (size_t k = 0; k < N_COMMANDS; k++) {
            size_t l = strlen(list);
            snprintf(list + l, sizeof list - l, "%s%s", k == 0 ? "" : k + 1 == N_COMMANDS
                                                                     ? " or " : ", ",
                     commands[k].name);
        }
        return usage_error("a command is needed: %s", list);
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_help();
        return 0;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("prime %s (libprime %s)\n", PRIME_VERSION_STRING, prime_version());
        return 0;
    }
    for (int k = 2; k < argc; k++)
        if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0) {
            print_help();
            return 0;
        }
    for (size_t k = 0; k < N_COMMANDS; k++)
        if (strcmp(cmd, commands[k].name) == 0)
            return commands[k].run(argc - 2, argv + 2);
    return usage_error("unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    catch_signals();
    return finish_stdout(run(argc, argv));
}
