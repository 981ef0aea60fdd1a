#ifndef STAMPEDE_CRDKAFKA_SHIM_H
#define STAMPEDE_CRDKAFKA_SHIM_H
// librdkafka >= 2.3 (installed under /usr/local by scripts/setup.sh).
#include <librdkafka/rdkafka.h>
#endif
