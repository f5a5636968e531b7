#include "http/session.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <thread>

#include <boost/asio/io_context.hpp>

#include "api/service.hpp"
#include "http/server.hpp"

namespace osprey::http {
namespace {

// A real server on loopback port 0, with the real routes and no model loaded:
// /health answers 503 and /v1/models 200, which is all the transport needs.
class SessionTest : public ::testing::Test {
protected:
    void start(server_options o = {}) {
        o.host = "127.0.0.1";
        o.port = 0;
        api::service_options so;
        so.model_id = "m";
        so.run_blocking = [](std::function<void()> work) {
            work();
        };
        service_ = std::make_unique<api::service>(so);
        server_ = std::make_unique<server>(io_, o, *service_);
        auto port = server_->listen();
        ASSERT_TRUE(port);
        port_ = *port;
        thread_ = std::thread([this] { io_.run(); });
    }

    void TearDown() override {
        io_.stop();
        if (thread_.joinable()) {
            thread_.join();
        }
    }

    int connect_client() const {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in sa{};
        sa.sin_family = AF_INET;
        sa.sin_port = htons(port_);
        ::inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
        EXPECT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&sa), sizeof sa), 0);
        return fd;
    }

    static void send_all(int fd, const std::string& data) {
        ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    }

    // Reads until the peer closes, or until `until` appears `count` times,
    // or until nothing has come for two seconds.
    static std::string read_from(int fd, const std::string& until = "", int count = 1) {
        std::string out;
        char buf[4096];
        while (true) {
            if (!until.empty()) {
                int seen = 0;
                for (size_t at = out.find(until); at != std::string::npos;
                     at = out.find(until, at + 1)) {
                    ++seen;
                }
                if (seen >= count) {
                    return out;
                }
            }
            pollfd p{fd, POLLIN, 0};
            if (::poll(&p, 1, 2000) <= 0) {
                return out;
            }
            const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
            if (n <= 0) {
                return out;
            }
            out.append(buf, static_cast<size_t>(n));
        }
    }

    static bool peer_closed(int fd) {
        char c;
        pollfd p{fd, POLLIN, 0};
        return ::poll(&p, 1, 3000) > 0 && ::recv(fd, &c, 1, 0) == 0;
    }

    boost::asio::io_context io_;
    std::unique_ptr<api::service> service_;
    std::unique_ptr<server> server_;
    std::thread thread_;
    uint16_t port_ = 0;
};

const std::string models_request = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";

TEST_F(SessionTest, KeepsAConnectionAliveAcrossRequests) {
    start();
    const int fd = connect_client();
    send_all(fd, models_request);
    EXPECT_NE(read_from(fd, "\"object\":\"list\"").find("200 OK"), std::string::npos);
    send_all(fd, models_request);
    EXPECT_NE(read_from(fd, "\"object\":\"list\"").find("200 OK"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, AnswersPipelinedRequestsInOrder) {
    start();
    const int fd = connect_client();
    send_all(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + models_request);
    const std::string both = read_from(fd, "HTTP/1.1 ", 2);
    const size_t health = both.find("503");
    const size_t models = both.find("200 OK");
    ASSERT_NE(health, std::string::npos);
    ASSERT_NE(models, std::string::npos);
    EXPECT_LT(health, models);
    ::close(fd);
}

TEST_F(SessionTest, AnswersManyPipelinedRequestsInOrder) {
    start();
    const int fd = connect_client();
    std::string requests;
    for (int i = 0; i < 12; ++i) {
        requests += i % 2 ? models_request : "GET /health HTTP/1.1\r\n\r\n";
    }
    send_all(fd, requests);
    const std::string replies = read_from(fd, "HTTP/1.1 ", 12);
    size_t at = 0;
    for (int i = 0; i < 12; ++i) {
        at = replies.find("HTTP/1.1 ", at);
        ASSERT_NE(at, std::string::npos) << i;
        EXPECT_EQ(replies.substr(at + 9, 3), i % 2 ? "200" : "503") << i;
        ++at;
    }
    ::close(fd);
}

TEST_F(SessionTest, ClosesAfterAnHttp10Response) {
    start();
    const int fd = connect_client();
    send_all(fd, "GET /v1/models HTTP/1.0\r\n\r\n");
    const std::string reply = read_from(fd);
    EXPECT_NE(reply.find("HTTP/1.0 200"), std::string::npos);
    EXPECT_TRUE(reply.find("\"object\":\"list\"") != std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, RefusesAnOversizedBodyWith413AndLetsTheClientReadIt) {
    server_options o;
    o.max_body_bytes = 100;
    start(o);
    const int fd = connect_client();
    // The whole body is sent: the refusal must still arrive, not a reset.
    send_all(fd,
             "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
             "Content-Type: application/json\r\nContent-Length: 5000\r\n\r\n" +
                 std::string(5000, 'a'));
    const std::string reply = read_from(fd);
    EXPECT_NE(reply.find("413"), std::string::npos);
    EXPECT_NE(reply.find("request_too_large"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, RefusesHugeHeadersWith431) {
    server_options o;
    o.max_header_bytes = 1024;
    start(o);
    const int fd = connect_client();
    send_all(fd, "GET /health HTTP/1.1\r\nX-Big: " + std::string(4000, 'b') + "\r\n\r\n");
    EXPECT_NE(read_from(fd).find("431"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, RefusesALongUrlWith414) {
    start();
    const int fd = connect_client();
    send_all(fd, "GET /v1/models?" + std::string(9000, 'q') + " HTTP/1.1\r\n\r\n");
    const std::string reply = read_from(fd);
    EXPECT_EQ(reply.rfind("HTTP/1.1 414", 0), 0u) << reply.substr(0, 80);
    EXPECT_NE(reply.find("uri_too_long"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, RefusesManyHeaderFieldsWith431) {
    start();
    const int fd = connect_client();
    std::string request = "GET /health HTTP/1.1\r\n";
    for (int i = 0; i < 101; ++i) {
        request += "X-" + std::to_string(i) + ": v\r\n";
    }
    send_all(fd, request + "\r\n");
    const std::string reply = read_from(fd);
    EXPECT_EQ(reply.rfind("HTTP/1.1 431", 0), 0u) << reply.substr(0, 80);
    ::close(fd);
}

TEST_F(SessionTest, AnswersGarbageWith400AndCloses) {
    start();
    const int fd = connect_client();
    send_all(fd, "HELLO THERE\r\n\r\n");
    const std::string reply = read_from(fd);
    EXPECT_NE(reply.find("400"), std::string::npos);
    EXPECT_TRUE(reply.find("{\"error\"") != std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, SendsContinueBeforeTheBody) {
    start();
    const int fd = connect_client();
    send_all(fd,
             "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             "Expect: 100-continue\r\nContent-Length: 2\r\n\r\n");
    EXPECT_NE(read_from(fd, "100 Continue").find("HTTP/1.1 100 Continue"), std::string::npos);
    send_all(fd, "{}");
    // No model is loaded; the request is parsed and answered all the same.
    EXPECT_NE(read_from(fd, "\"error\"").find("\"error\""), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, ClosesAnIdleConnectionAfterTheReadTimeout) {
    server_options o;
    o.read_timeout = std::chrono::milliseconds(200);
    start(o);
    const int fd = connect_client();
    send_all(fd, "GET /health HTTP/1.1\r\n");  // and nothing more
    EXPECT_TRUE(peer_closed(fd));
    ::close(fd);
}

TEST_F(SessionTest, RequiresTheKeyEverywhereButHealth) {
    server_options o;
    o.api_key = "sekret";
    start(o);
    const int fd = connect_client();
    send_all(fd, models_request);
    EXPECT_NE(read_from(fd, "}}").find("401"), std::string::npos);
    send_all(fd, "GET /v1/models HTTP/1.1\r\nAuthorization: Bearer sekret\r\n\r\n");
    EXPECT_NE(read_from(fd, "\"object\":\"list\"").find("200 OK"), std::string::npos);
    send_all(fd, "GET /v1/models HTTP/1.1\r\nx-api-key: sekret\r\n\r\n");
    EXPECT_NE(read_from(fd, "\"object\":\"list\"").find("200 OK"), std::string::npos);
    send_all(fd, "GET /nowhere HTTP/1.1\r\n\r\n");
    EXPECT_NE(read_from(fd, "}}").find("401"), std::string::npos);
    send_all(fd, "GET /health HTTP/1.1\r\n\r\n");
    EXPECT_NE(read_from(fd, "}").find("503"), std::string::npos);
    ::close(fd);
}

// CORS is off unless origins are named: a page elsewhere gets no header that
// would let the browser show it the response, and a preflight is refused.
TEST_F(SessionTest, SendsNoCorsHeadersUnlessTheOriginIsAllowed) {
    start();
    const int fd = connect_client();
    send_all(fd, "GET /v1/models HTTP/1.1\r\nOrigin: https://evil.example\r\n\r\n");
    EXPECT_EQ(read_from(fd, "}]}").find("Access-Control"), std::string::npos);
    send_all(fd,
             "OPTIONS /v1/chat/completions HTTP/1.1\r\nOrigin: https://evil.example\r\n"
             "Access-Control-Request-Method: POST\r\n\r\n");
    const std::string preflight = read_from(fd, "}}");
    EXPECT_NE(preflight.find("405"), std::string::npos);
    EXPECT_EQ(preflight.find("Access-Control"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, AnswersAPreflightFromAnAllowedOriginBeforeTheKeyCheck) {
    server_options o;
    o.api_key = "sekret";
    o.cors_origins = {"https://app.example"};
    start(o);
    const int fd = connect_client();
    send_all(fd,
             "OPTIONS /v1/chat/completions HTTP/1.1\r\nOrigin: https://app.example\r\n"
             "Access-Control-Request-Method: POST\r\n"
             "Access-Control-Request-Headers: authorization, content-type\r\n\r\n");
    const std::string preflight = read_from(fd, "\r\n\r\n");
    EXPECT_EQ(preflight.rfind("HTTP/1.1 204", 0), 0u) << preflight;
    EXPECT_NE(preflight.find("Access-Control-Allow-Origin: https://app.example"),
              std::string::npos);
    EXPECT_NE(preflight.find("Access-Control-Allow-Methods: POST, OPTIONS"), std::string::npos);
    EXPECT_NE(preflight.find("Access-Control-Allow-Headers: authorization, content-type"),
              std::string::npos);

    // The real request still needs the key; its answer, even an error, is
    // readable by the page.
    send_all(fd, "GET /v1/models HTTP/1.1\r\nOrigin: https://app.example\r\n\r\n");
    const std::string refused = read_from(fd, "}}");
    EXPECT_NE(refused.find("401"), std::string::npos);
    EXPECT_NE(refused.find("Access-Control-Allow-Origin: https://app.example"), std::string::npos);
    EXPECT_NE(refused.find("Vary: Origin"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, NamesTheAllowedMethodOn405) {
    start();
    const int fd = connect_client();
    send_all(fd, "DELETE /v1/models HTTP/1.1\r\n\r\n");
    const std::string reply = read_from(fd, "}}");
    EXPECT_NE(reply.find("405"), std::string::npos);
    EXPECT_NE(reply.find("Allow: GET"), std::string::npos);
    ::close(fd);
}

TEST_F(SessionTest, RefusesNonJsonBodiesWith415) {
    start();
    const int fd = connect_client();
    send_all(fd,
             "POST /v1/completions HTTP/1.1\r\nContent-Type: text/plain\r\n"
             "Content-Length: 2\r\n\r\n{}");
    EXPECT_NE(read_from(fd, "}}").find("415"), std::string::npos);
    ::close(fd);
}

}  // namespace
}  // namespace osprey::http
