#include "loopback_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

namespace osprey::testing {

loopback_http_server::loopback_http_server(const std::string& address, int port) {
    listener_ = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in sa{};
    sa.sin_family = AF_INET;
    sa.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, address.c_str(), &sa.sin_addr) != 1 ||
        ::bind(listener_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 ||
        ::listen(listener_, 16) != 0) {
        throw std::runtime_error("cannot listen on " + address);
    }
    socklen_t len = sizeof sa;
    ::getsockname(listener_, reinterpret_cast<sockaddr*>(&sa), &len);
    port_ = ntohs(sa.sin_port);
    thread_ = std::thread([this] { serve(); });
}

loopback_http_server::~loopback_http_server() {
    stopping_ = true;
    ::shutdown(listener_, SHUT_RDWR);
    ::close(listener_);
    thread_.join();
}

void loopback_http_server::route(const std::string& path, std::string raw, bool then_stall) {
    std::lock_guard lock(mutex_);
    routes_[path] = {std::move(raw), then_stall};
}

std::string loopback_http_server::last_request() const {
    std::lock_guard lock(mutex_);
    return last_request_;
}

std::string loopback_http_server::response(int status, const std::string& headers,
                                           const std::string& body) {
    return "HTTP/1.1 " + std::to_string(status) + " X\r\n" + headers +
           "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           body;
}

void loopback_http_server::serve() {
    while (!stopping_) {
        pollfd p{listener_, POLLIN, 0};
        if (::poll(&p, 1, 100) <= 0) {
            continue;
        }
        const int client = ::accept(listener_, nullptr, nullptr);
        if (client < 0) {
            continue;
        }
        answer(client);
        ::close(client);
    }
}

void loopback_http_server::answer(int client) {
    std::string request;
    char buf[4096];
    while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(client, buf, sizeof buf, 0);
        if (n <= 0) {
            return;
        }
        request.append(buf, static_cast<size_t>(n));
    }
    ++requests_;
    const size_t start = request.find(' ') + 1;
    const std::string path = request.substr(start, request.find(' ', start) - start);
    std::pair<std::string, bool> reply{response(404, "", "missing"), false};
    {
        std::lock_guard lock(mutex_);
        last_request_ = request;
        if (auto it = routes_.find(path); it != routes_.end()) {
            reply = it->second;
        }
    }
    ::send(client, reply.first.data(), reply.first.size(), MSG_NOSIGNAL);
    while (reply.second && !stopping_) {
        pollfd p{client, POLLIN, 0};
        if (::poll(&p, 1, 20) > 0 && ::recv(client, buf, sizeof buf, 0) <= 0) {
            return;
        }
    }
}

}  // namespace osprey::testing
