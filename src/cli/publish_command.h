// `vigil publish --nats URL [--partitions N] INPUT...`: reads anything vigil
// reads, normalizes it to ECS (as `vigil convert`) and publishes one message
// per event to JetStream stream VIGIL_EVENTS, subject
// vigil.events.<partition>.<host>, partition = hash(host.name) mod N. Each
// message carries a Nats-Msg-Id made from the event's source identity, so
// publishing the same input again within the stream's duplicate window adds
// nothing (docs/streaming.md).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace vigil {

struct PublishOptions {
  std::vector<std::string> inputs;
  std::string nats;
  std::uint32_t partitions = 16;
  std::int64_t max_in_flight = 4096;
  std::string duplicate_window = "2m";
  bool strict = false;
  bool quiet = false;
  unsigned threads = 0;
};

void add_publish_command(CLI::App& app, PublishOptions& options);
int run_publish_command(const PublishOptions& options);

}  // namespace vigil
