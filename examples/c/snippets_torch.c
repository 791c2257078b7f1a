/* The libprime-torch example of the API reference (docs/api.dox, \snippet):
 * compiled with the shim (examples suite) and run with files that do not
 * exist, to show the error path; with real exports it tags images.
 *
 *   build/examples/example-snippets-torch ram.pt data/ram/ram_tag_list.txt */
#include <stdio.h>

#include <prime/prime.h>
#include <prime/torch.h>

int main(int argc, char **argv)
{
    const char *model = argc > 1 ? argv[1] : "ram.pt";
    const char *vocab = argc > 2 ? argv[2] : "data/ram/ram_tag_list.txt";
    //! [torch]
    prime_tagger *tagger = NULL;
    prime_status st = prime_torch_tagger_create(model, vocab, PRIME_TORCH_SCORES_LOGITS,
                                                NULL /* RAM's preprocessing */, &tagger);
    if (st != PRIME_OK) {
        fprintf(stderr, "%s: %s\n", prime_status_name(st), prime_last_error());
        return 1;
    }
    printf("%s: %u tags\n", prime_tagger_name(tagger), prime_tagger_tag_count(tagger));
    /* then prime_tagger_tag_files(tagger, paths, ..., store, ...) as with any tagger */
    prime_tagger_destroy(tagger);
    //! [torch]
    return 0;
}
