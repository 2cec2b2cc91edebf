// libspng (0.7): only ImageCodecs imports this module.
#include <stdlib.h>
#include <spng.h>
