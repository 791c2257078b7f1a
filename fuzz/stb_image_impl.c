/* stb_image compiled into the fuzz targets with the sanitizers and coverage
 * (the library itself links Debian's libstb), so that libFuzzer explores
 * the decoder too. Only the fuzz builds use this file. */
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_TGA
#define STBI_ONLY_GIF
#include <stb_image.h>
