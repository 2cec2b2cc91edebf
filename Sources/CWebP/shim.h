// libwebp (1.2): only ImageCodecs imports this module.
#include <webp/decode.h>
#include <webp/encode.h>
