// MetricsServer: Prometheus text metrics over HTTP (`--metrics-listen
// 127.0.0.1:PORT`), served by one thread from the last text the run loop
// handed over. Any GET gets the metrics; the request is read with a size
// cap and a timeout, so a slow or hostile client cannot hold the thread.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/result.h"

namespace vigil {

class MetricsServer {
 public:
  // `address` is HOST:PORT with a numeric IPv4 host (127.0.0.1:9464).
  static Result<std::unique_ptr<MetricsServer>> listen(const std::string& address);
  ~MetricsServer();
  // The text the next scrape gets (Prometheus exposition format 0.0.4).
  void publish(std::string text);
  int port() const { return port_; }

 private:
  MetricsServer() = default;
  void serve();

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::mutex mutex_;
  std::string text_;
  std::thread thread_;
};

}  // namespace vigil
