// NatsBus: vigil's use of NATS JetStream (the C client, libnats), in one
// place: the streams it creates, the subjects and headers it writes, async
// publishing with a bounded number of unacknowledged messages and retries,
// and per-partition durable pull consumers.
//
//   VIGIL_EVENTS      vigil.events.<partition>.<host>   events (ECS JSON), file storage
//   VIGIL_ALERTS      vigil.alerts.<host>               alert documents, Nats-Msg-Id = kibana.alert.uuid
//   VIGIL_DEADLETTER  vigil.deadletter.<partition>      messages a worker could not use, with the reason
//
// A host name becomes one subject token: bytes NATS does not allow in a
// token ('.', '*', '>', whitespace, controls), '%' and non-ASCII bytes are
// written %XX. The partition of a host is FNV-1a (32 bit) of its name in
// ASCII lower case, modulo the partition count: the same host always lands
// in the same partition, whatever its spelling's case.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.h"

struct __natsConnection;
struct __jsCtx;
struct __natsSubscription;
struct __natsMsg;

namespace vigil {

inline constexpr const char* kEventsStream = "VIGIL_EVENTS";
inline constexpr const char* kAlertsStream = "VIGIL_ALERTS";
inline constexpr const char* kDeadLetterStream = "VIGIL_DEADLETTER";
inline constexpr const char* kSourceHeader = "Vigil-Source";   // the event's file and record (vigil.source JSON)
inline constexpr const char* kReasonHeader = "Vigil-Reason";   // dead letters: why
inline constexpr const char* kOriginHeader = "Vigil-Origin";   // dead letters: "<subject> <stream sequence>"

std::uint32_t partition_of(std::string_view host, std::uint32_t partitions);
std::string subject_token(std::string_view host);

struct StreamLimits {
  std::int64_t duplicate_window_ns = 0;  // VIGIL_EVENTS; 0: the server's default (2 minutes)
  // VIGIL_ALERTS: long enough for a worker's restart, so an alert made again
  // from redelivered events is dropped by the server.
  std::int64_t alert_duplicate_window_ns = 3600'000'000'000LL;
};

// A message to publish (the bus copies it).
struct OutMessage {
  std::string subject;
  std::string_view data;
  std::string_view msg_id;  // Nats-Msg-Id: the server drops a second message with the same id in its window
  std::vector<std::pair<std::string, std::string>> headers;
};

// A message fetched from a partition.
struct InMessage {
  __natsMsg* msg = nullptr;  // owned by the PartitionConsumer that pulled it
  std::string_view subject;
  std::string_view data;
  std::uint64_t stream_seq = 0;
  std::uint64_t pending = 0;  // messages of the partition not yet delivered after this one
  std::string header(const char* name) const;
  // The same, without a copy: valid while the message is (until the consumer's next take()).
  std::string_view header_view(const char* name) const;
};

struct PublishStats {
  std::uint64_t published = 0;   // acknowledged by the server (duplicates included)
  std::uint64_t duplicates = 0;  // the server had the id already
  std::uint64_t retried = 0;     // sent again after a timeout or a lost connection
  std::uint64_t failed = 0;      // refused by the server for good (counted, reported)
};

class NatsBus {
 public:
  // Connects (reconnecting forever after a lost connection) and creates the
  // three streams if absent. `name` names the connection in the server's monitoring.
  static Result<std::unique_ptr<NatsBus>> connect(const std::string& url, const std::string& name,
                                                  std::int64_t max_in_flight, const StreamLimits& limits);
  ~NatsBus();

  // Publishes without waiting for the server's acknowledgment; blocks while
  // `max_in_flight` messages are unacknowledged. Error: the message cannot be
  // sent at all (over the server's max payload).
  Result<bool> publish(const OutMessage& m);
  // Waits until every published message is acknowledged, sending again those
  // that timed out (their ids make a second copy harmless), at most
  // `timeout_ns`. False if some are still unacknowledged.
  bool flush(std::int64_t timeout_ns);
  PublishStats publish_stats() const;
  std::int64_t max_payload() const;
  // False while the connection is lost (the client reconnects by itself).
  bool connected() const;
  // The first error the server gave a publish for good, if any.
  std::optional<std::string> last_failure() const;

  __jsCtx* js() { return js_; }
  __natsConnection* connection() { return nc_; }
  // Unsubscribes a subscription and frees it with the bus, after the
  // connection is closed: libnats 3.4's reader thread looks a subscription up
  // and then locks it without holding a reference (natsConn_processMsg), so
  // one destroyed while the connection is open can be locked after it was
  // freed (a SEGV seen at exit, and after a reconnect).
  void retire(__natsSubscription* sub);
  // The client's thread reports each publish's outcome here (nats_bus.cpp).
  void acknowledged(__natsMsg* msg, bool ok, bool duplicate, int status, const char* error);

 private:
  NatsBus() = default;
  void resend_retries();

  __natsConnection* nc_ = nullptr;
  __jsCtx* js_ = nullptr;
  mutable std::mutex mutex_;  // the ack callback runs on the client's thread
  PublishStats stats_;
  std::vector<__natsMsg*> retry_;
  std::optional<std::string> failure_;
  std::vector<__natsSubscription*> retired_;  // under mutex_; freed after the connection closes
};

// Wakes the thread that handles messages when any partition has some.
struct ReadySignal {
  std::mutex mutex;
  std::condition_variable cv;
  std::uint64_t batches = 0;  // made ready so far (under mutex)
  // Waits until a batch was made ready after `seen` batches, or `timeout_ns`.
  void wait(std::uint64_t seen, std::int64_t timeout_ns);
};

// A durable pull consumer of one partition of VIGIL_EVENTS:
// "vigil-p<partition>", filter vigil.events.<partition>.>, acknowledging all
// messages up to the one acknowledged. A thread of its own pulls (blocking
// fetches of up to 256 messages, so an idle partition costs nothing) and
// keeps at most two batches ready: the handling thread sets the pace.
class PartitionConsumer {
 public:
  // Starts at stream sequence `start_seq` (the one after the last applied);
  // with 0, after what the durable consumer had acknowledged if it exists,
  // else at the stream's start. The durable is made again so delivery starts
  // exactly there. `ack_wait_ns`: how long the server waits for an ack
  // before delivering again (vigil acks at checkpoints).
  static Result<std::unique_ptr<PartitionConsumer>> open(NatsBus& bus, std::uint32_t partition, std::uint64_t start_seq,
                                                         std::int64_t ack_wait_ns, std::int64_t max_ack_pending,
                                                         ReadySignal& ready);
  ~PartitionConsumer();

  // The next batch pulled, if one is ready (no waiting). Its messages stay
  // valid until the next call, but for the one kept for acknowledgment.
  // Delivery is checked to be gapless (consumer sequences 1, 2, ...): a
  // message the server delivered but the client never handed over (a fetch
  // that timed out while the server was still sending) would otherwise be
  // skipped. After a gap the messages before it are handed over and the
  // consumer starts again right after the last one.
  const std::vector<InMessage>& take();
  std::uint64_t restarts() const { return restarts_; }
  // Everything of the partition handed over, as the server sees it (nothing
  // ready, nothing pending). Messages the server delivered after the last
  // one handed over (lost with a timed-out fetch, with no later message to
  // show the gap) are asked for again: not drained then.
  Result<bool> drained();
  // Keeps a message of the last batch taken to acknowledge it, and
  // everything before it, at the next ack().
  void keep_for_ack(std::size_t index);
  // Acknowledges the kept message (and all before it). Best effort: the
  // checkpoint, not the ack, decides where a restart begins.
  void ack();
  std::uint64_t started_at() const { return started_at_; }

 private:
  struct Batch {
    std::vector<__natsMsg*> msgs;
    std::vector<InMessage> in;
    std::uint64_t generation = 0;
  };
  PartitionConsumer() = default;
  // (Re)creates the durable to deliver from stream sequence `start_seq` and
  // subscribes (the pulling thread, or open() before it runs).
  Result<bool> start(std::uint64_t start_seq);
  void pull_loop();
  // The next batch of the open pull request (made first if none is): the
  // messages in order, up to a gap.
  void pull_once(Batch& batch, bool& gap);
  int queued() const;  // messages delivered to the inbox, not yet taken
  void free_taken();

  NatsBus* bus_ = nullptr;
  __jsCtx* js_ = nullptr;  // its own: the pulling thread uses it
  ReadySignal* ready_signal_ = nullptr;
  std::uint32_t partition_ = 0;
  std::string durable_;    // vigil-p<partition>
  std::string next_subject_;  // where pull requests go
  std::uint64_t started_at_ = 0;
  std::int64_t ack_wait_ns_ = 0, max_ack_pending_ = 0;
  // The pulling thread's, read by drained() under mutex_.
  std::uint64_t next_consumer_seq_ = 1;
  std::uint64_t next_stream_seq_ = 1;  // after the last message pulled
  std::atomic<std::uint64_t> restarts_{0};
  std::atomic<std::uint64_t> generation_{0};  // consumers made by start(): an ack goes to the current one only
  // Unsubscribed by a restart or the destructor, then handed to the bus
  // (NatsBus::retire), which frees it once the connection is closed.
  __natsSubscription* sub_ = nullptr;
  std::string inbox_;  // where the server answers pull requests
  // The pulling thread's open request (pull_once).
  bool request_open_ = false;
  int request_left_ = 0;  // messages it may still bring
  std::chrono::steady_clock::time_point request_deadline_;
  std::chrono::steady_clock::time_point last_message_;  // of the open request

  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch> ready_;
  bool stop_ = false, restart_requested_ = false, collecting_ = false;
  std::uint64_t suspect_seq_ = 0;  // drained(): next_consumer_seq_ when deliveries were first seen missing
  std::chrono::steady_clock::time_point suspect_since_;
  std::thread puller_;

  Batch taken_;  // the last batch handed over (freed at the next take)
  __natsMsg* kept_ = nullptr;
  std::uint64_t kept_generation_ = 0;
};

}  // namespace vigil
