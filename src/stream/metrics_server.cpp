#include "stream/metrics_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <string_view>

namespace vigil {

Result<std::unique_ptr<MetricsServer>> MetricsServer::listen(const std::string& address) {
  const auto colon = address.rfind(':');
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  int port = -1;
  try {
    std::size_t used = 0;
    port = colon == std::string::npos ? -1 : std::stoi(address.substr(colon + 1), &used);
    if (colon != std::string::npos && used != address.size() - colon - 1) port = -1;
  } catch (...) {
    port = -1;
  }
  if (port < 0 || port > 65535 || ::inet_pton(AF_INET, address.substr(0, colon).c_str(), &sa.sin_addr) != 1) {
    return Error{"metrics.usage", "--metrics-listen wants IPv4:PORT, e.g. 127.0.0.1:9464 (got '" + address + "')"};
  }
  sa.sin_port = htons(static_cast<std::uint16_t>(port));
  std::unique_ptr<MetricsServer> m(new MetricsServer());
  m->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(m->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (m->fd_ < 0 || ::bind(m->fd_, reinterpret_cast<sockaddr*>(&sa), sizeof sa) != 0 || ::listen(m->fd_, 16) != 0) {
    return Error{"metrics.listen", "--metrics-listen " + address + ": " + std::strerror(errno)};
  }
  socklen_t len = sizeof sa;
  ::getsockname(m->fd_, reinterpret_cast<sockaddr*>(&sa), &len);
  m->port_ = ntohs(sa.sin_port);
  m->thread_ = std::thread([p = m.get()] { p->serve(); });
  return m;
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void MetricsServer::publish(std::string text) {
  std::lock_guard lock(mutex_);
  text_ = std::move(text);
}

void MetricsServer::serve() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    const int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    // The request head, up to 8 KB or 2 s: its content does not matter.
    char buf[8192];
    std::size_t got = 0;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    while (got < sizeof buf && std::chrono::steady_clock::now() < until) {
      pollfd q{c, POLLIN, 0};
      if (::poll(&q, 1, 100) <= 0) continue;
      const ssize_t n = ::recv(c, buf + got, sizeof buf - got, 0);
      if (n <= 0) break;
      got += static_cast<std::size_t>(n);
      if (std::string_view(buf, got).find("\r\n\r\n") != std::string_view::npos) break;
    }
    std::string body;
    {
      std::lock_guard lock(mutex_);
      body = text_;
    }
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                             "Content-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n";
    std::string out = head + body;
    for (std::size_t sent = 0; sent < out.size();) {
      const ssize_t n = ::send(c, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    ::close(c);
  }
}

}  // namespace vigil
