// libjpeg-turbo's TurboJPEG API (2.1): only ImageCodecs imports this module.
#include <turbojpeg.h>
