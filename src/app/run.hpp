#pragma once

#include "app/options.hpp"

namespace osprey::app {

const char* version();

// Starts listening, loads the model (answering /health with 503 meanwhile),
// serves until SIGINT or SIGTERM, and returns the process exit code: 0 after
// a signal, 1 when the model cannot be loaded or the address cannot be bound.
int run_server(const serve_options& options);

}  // namespace osprey::app
