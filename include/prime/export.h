/* Export macro of libprime: every public declaration carries PRIME_API. The
 * library is built with -fvisibility=hidden, so only what carries it (and
 * what the version script lists) is exported. */
#ifndef PRIME_EXPORT_H
#define PRIME_EXPORT_H

#if defined(PRIME_STATIC)
#define PRIME_API
#elif defined(_WIN32)
#if defined(PRIME_BUILDING)
#define PRIME_API __declspec(dllexport)
#else
#define PRIME_API __declspec(dllimport)
#endif
#elif defined(__GNUC__) && __GNUC__ >= 4
#define PRIME_API __attribute__((visibility("default")))
#else
#define PRIME_API
#endif

#endif /* PRIME_EXPORT_H */
