#include "postgresql_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <libpq-fe.h>

namespace osprey::store::testing {

namespace {

constexpr const char* superuser = "osprey_test";

// Where Debian's postgresql package puts the server's binaries, one folder
// per major version; the newest wins.
std::filesystem::path find_binaries() {
    const std::filesystem::path root = "/usr/lib/postgresql";
    std::vector<std::filesystem::path> found;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(root, ec)) {
        const auto bin = entry.path() / "bin";
        if (std::filesystem::exists(bin / "initdb") && std::filesystem::exists(bin / "postgres")) {
            found.push_back(bin);
        }
    }
    if (found.empty()) {
        throw std::runtime_error(
            "PostgreSQL's server binaries (initdb, postgres) are not in "
            "/usr/lib/postgresql/*/bin: run scripts/setup, which installs Debian's postgresql "
            "package");
    }
    const auto version = [](const std::filesystem::path& bin) {
        const std::string name = bin.parent_path().filename().string();
        int v = 0;
        std::from_chars(name.data(), name.data() + name.size(), v);
        return v;
    };
    std::sort(found.begin(), found.end(),
              [&](const auto& a, const auto& b) { return version(a) < version(b); });
    return found.back();
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// A port nothing listens on right now. Another process may take it before
// the server binds it; try_start notices and the caller picks another.
int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t size = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), size) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &size) != 0) {
        throw std::runtime_error("cannot find a free port on 127.0.0.1");
    }
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

// Who the server runs as: the `postgres` user when the test runs as root.
struct postgresql_server::account {
    bool switch_user = false;
    uid_t uid = 0;
    gid_t gid = 0;

    static std::unique_ptr<account> pick() {
        auto a = std::make_unique<account>();
        if (::geteuid() != 0) {
            return a;
        }
        const passwd* pw = ::getpwnam("postgres");
        if (pw == nullptr) {
            throw std::runtime_error(
                "the tests run as root and there is no postgres user to run PostgreSQL as: "
                "run scripts/setup, which installs Debian's postgresql package");
        }
        a->switch_user = true;
        a->uid = pw->pw_uid;
        a->gid = pw->pw_gid;
        return a;
    }

    // The folder the server's files go under: one the postgres user can
    // reach, which a TMPDIR inside root's home may not be.
    std::filesystem::path temp_parent() const {
        return switch_user ? std::filesystem::path("/tmp") : std::filesystem::temp_directory_path();
    }

    // Forks `argv`, its output appended to `log`, as this account. With
    // `die_with_parent`, the kernel sends the child SIGQUIT (PostgreSQL's
    // immediate shutdown) when the test process dies.
    pid_t spawn(const std::vector<std::string>& argv, const std::filesystem::path& log,
                bool die_with_parent) const {
        std::vector<char*> args;
        for (const std::string& a : argv) {
            args.push_back(const_cast<char*>(a.c_str()));
        }
        args.push_back(nullptr);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
        const pid_t parent = ::getpid();

        const pid_t pid = ::fork();
        if (pid == 0) {
            exec_child(args, out, parent, die_with_parent);
        }
        ::close(out);
        if (pid < 0) {
            throw std::runtime_error("fork failed");
        }
        return pid;
    }

private:
    // In the forked child: only async-signal-safe calls until execv.
    [[noreturn]] void exec_child(const std::vector<char*>& args, int out, pid_t parent,
                                 bool die_with_parent) const {
        if (out < 0 || ::dup2(out, STDOUT_FILENO) < 0 || ::dup2(out, STDERR_FILENO) < 0) {
            ::_exit(126);
        }
        if (switch_user &&
            (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)) {
            ::_exit(126);
        }
        // After setuid, which clears the death signal.
        if (die_with_parent && (::prctl(PR_SET_PDEATHSIG, SIGQUIT) != 0 || ::getppid() != parent)) {
            ::_exit(126);
        }
        ::execv(args[0], args.data());
        ::_exit(127);
    }
};

postgresql_server::postgresql_server()
    : account_(account::pick()), bin_(find_binaries()), dir_(account_->temp_parent()) {
    if (account_->switch_user && ::chown(dir_.path().c_str(), account_->uid, account_->gid) != 0) {
        throw std::runtime_error("cannot hand " + dir_.path().string() + " to postgres");
    }
    init_cluster();
    for (int attempt = 0; attempt < 5; ++attempt) {
        port_ = free_port();
        if (try_start()) {
            return;
        }
    }
    throw std::runtime_error("PostgreSQL did not start:\n" + read_file(dir_.path() / "server.log"));
}

postgresql_server::~postgresql_server() {
    stop();
}

void postgresql_server::init_cluster() {
    const auto log = dir_.path() / "initdb.log";
    // --no-sync: a test's cluster need not survive a power cut.
    const pid_t pid = account_->spawn(
        {(bin_ / "initdb").string(), "--pgdata", (dir_.path() / "data").string(), "--username",
         superuser, "--encoding", "UTF8", "--locale", "C", "--auth", "reject", "--no-sync"},
        log, false);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error("initdb failed:\n" + read_file(log));
    }

    // Replaces initdb's rules: trust from 127.0.0.1, nothing else at all.
    std::ofstream hba(dir_.path() / "data" / "pg_hba.conf", std::ios::trunc);
    hba << "host all all 127.0.0.1/32 trust\n";
    if (!hba.flush()) {
        throw std::runtime_error("cannot write pg_hba.conf");
    }
}

void postgresql_server::start() {
    if (!try_start()) {
        throw std::runtime_error("PostgreSQL did not start again:\n" +
                                 read_file(dir_.path() / "server.log"));
    }
}

// False when the server exited before it was ready (most likely, another
// process took the port in the meantime).
bool postgresql_server::try_start() {
    pid_ = account_->spawn({(bin_ / "postgres").string(), "-D", (dir_.path() / "data").string(),
                            "-p", std::to_string(port_), "-c", "listen_addresses=127.0.0.1", "-c",
                            "unix_socket_directories=" + dir_.path().string(), "-c", "fsync=off"},
                           dir_.path() / "server.log", true);

    // Not a timing assertion: a bound on waiting for a server that hangs,
    // generous enough for a loaded machine.
    for (int tries = 0; tries < 3000; ++tries) {
        if (is_ready()) {
            return true;
        }
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    stop();
    return false;
}

// Ready as our own server says it, in its postmaster.pid (as pg_ctl reads
// it), not as whatever answers on the port, which might be another test's.
bool postgresql_server::is_ready() const {
    std::ifstream in(dir_.path() / "data" / "postmaster.pid");
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) {
        lines.push_back(line);
    }
    // Line 1: the postmaster's pid; line 8: its status.
    return lines.size() >= 8 && lines[0] == std::to_string(pid_) && lines[7].starts_with("ready");
}

void postgresql_server::stop() {
    if (pid_ <= 0) {
        return;
    }
    ::kill(pid_, SIGINT);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
}

std::string postgresql_server::url(const std::string& password) const {
    const std::string userinfo = password.empty() ? superuser : superuser + (":" + password);
    return "postgresql://" + userinfo + "@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string postgresql_server::query(const std::string& sql) const {
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn(PQconnectdb(url().c_str()), PQfinish);
    if (PQstatus(conn.get()) != CONNECTION_OK) {
        throw std::runtime_error(std::string("cannot connect: ") + PQerrorMessage(conn.get()));
    }
    std::unique_ptr<PGresult, decltype(&PQclear)> r(PQexec(conn.get(), sql.c_str()), PQclear);
    const auto status = PQresultStatus(r.get());
    if (status != PGRES_TUPLES_OK && status != PGRES_COMMAND_OK) {
        throw std::runtime_error(sql + ": " + PQresultErrorMessage(r.get()));
    }
    if (status == PGRES_COMMAND_OK || PQntuples(r.get()) == 0) {
        return {};
    }
    return PQgetvalue(r.get(), 0, 0);
}

}  // namespace osprey::store::testing
