#include <cstdio>

#include "app/options.hpp"
#include "app/run.hpp"

int main(int argc, char** argv) {
    auto parsed = osprey::app::parse_command_line(argc, argv);
    switch (parsed.command) {
    case osprey::app::command::help_shown: return parsed.exit_code;
    case osprey::app::command::version:
        std::printf("osprey %s\n", osprey::app::version());
        return 0;
    case osprey::app::command::serve: break;
    }
    return osprey::app::run_server(parsed.serve);
}
