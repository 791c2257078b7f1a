#include "common/common.h"

uint32_t prime_version_number(void)
{
    return PRIME_VERSION_NUMBER;
}

const char *prime_version(void)
{
    return PRIME_VERSION_STRING;
}
