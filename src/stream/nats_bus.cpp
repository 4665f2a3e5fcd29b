#include "stream/nats_bus.h"

#include <nats/nats.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <tuple>

#include <fmt/format.h>

namespace vigil {

namespace {
constexpr int kPullBatch = 256;  // messages a pull request asks for
}  // namespace

std::uint32_t partition_of(std::string_view host, std::uint32_t partitions) {
  std::uint32_t h = 2166136261u;
  for (char c : host) {
    auto b = static_cast<unsigned char>(c);
    if (b >= 'A' && b <= 'Z') b = static_cast<unsigned char>(b - 'A' + 'a');
    h = (h ^ b) * 16777619u;
  }
  return partitions == 0 ? 0 : h % partitions;
}

std::string subject_token(std::string_view host) {
  std::string out;
  out.reserve(host.size());
  for (char c : host) {
    auto b = static_cast<unsigned char>(c);
    if (b <= 0x20 || b >= 0x7f || c == '.' || c == '*' || c == '>' || c == '%') {
      out += fmt::format("%{:02X}", b);
    } else {
      out.push_back(c);
    }
  }
  return out.empty() ? "%00" : out;
}

namespace {

std::string status_text(natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  std::string text = natsStatus_GetText(s);
  if (const char* last = nats_GetLastError(nullptr); last && *last && text != last) text += std::string(": ") + last;
  if (code != 0) text += fmt::format(" (JetStream error {})", static_cast<int>(code));
  return text;
}

Error nats_error(const std::string& what, natsStatus s, jsErrCode code = static_cast<jsErrCode>(0)) {
  return Error{"nats", what + ": " + status_text(s, code)};
}

// The stream named `name` over `subject`, with file storage; an existing
// stream is used as it is (its owner may have set its limits).
Result<bool> ensure_stream(jsCtx* js, const char* name, const char* subject, std::int64_t duplicates_ns) {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetStreamInfo(&si, js, name, nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
    return true;
  }
  if (s != NATS_NOT_FOUND && code != JSStreamNotFoundErr) return nats_error(fmt::format("stream {}", name), s, code);
  jsStreamConfig cfg;
  jsStreamConfig_Init(&cfg);
  cfg.Name = name;
  const char* subjects[] = {subject};
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Storage = js_FileStorage;
  if (duplicates_ns > 0) cfg.Duplicates = duplicates_ns;
  s = js_AddStream(&si, js, &cfg, nullptr, &code);
  if (s != NATS_OK) return nats_error(fmt::format("creating stream {}", name), s, code);
  jsStreamInfo_Destroy(si);
  return true;
}

void ack_callback(jsCtx*, natsMsg* msg, jsPubAck* pa, jsPubAckErr* pae, void* closure) {
  auto* bus = static_cast<NatsBus*>(closure);
  if (pa) {
    bus->acknowledged(msg, true, pa->Duplicate, 0, nullptr);
  } else {
    bus->acknowledged(msg, false, false, pae ? static_cast<int>(pae->Err) : 0, pae ? pae->ErrText : nullptr);
  }
}

}  // namespace

std::string InMessage::header(const char* name) const { return std::string(header_view(name)); }

std::string_view InMessage::header_view(const char* name) const {
  const char* v = nullptr;
  if (natsMsgHeader_Get(msg, name, &v) == NATS_OK && v) return v;
  return {};
}

Result<std::unique_ptr<NatsBus>> NatsBus::connect(const std::string& url, const std::string& name,
                                                  std::int64_t max_in_flight, const StreamLimits& limits) {
  std::unique_ptr<NatsBus> bus(new NatsBus());
  natsOptions* opts = nullptr;
  if (natsOptions_Create(&opts) != NATS_OK) return Error{"nats", "out of memory"};
  natsOptions_SetURL(opts, url.c_str());
  natsOptions_SetName(opts, name.c_str());
  natsOptions_SetMaxReconnect(opts, -1);  // a broker restart is waited for, not fatal
  natsOptions_SetReconnectWait(opts, 500);
  natsOptions_SetReconnectBufSize(opts, 64 << 20);
  natsStatus s = natsConnection_Connect(&bus->nc_, opts);
  natsOptions_Destroy(opts);
  if (s != NATS_OK) return nats_error("connecting to " + url, s);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = 10000;
  jo.PublishAsync.MaxPending = max_in_flight;
  jo.PublishAsync.AckHandler = ack_callback;
  jo.PublishAsync.AckHandlerClosure = bus.get();
  jo.PublishAsync.StallWait = 1000;
  s = natsConnection_JetStream(&bus->js_, bus->nc_, &jo);
  if (s != NATS_OK) return nats_error("JetStream on " + url, s);
  for (auto [stream, subject, window] :
       {std::tuple{kEventsStream, "vigil.events.>", limits.duplicate_window_ns},
        std::tuple{kAlertsStream, "vigil.alerts.>", limits.alert_duplicate_window_ns},
        std::tuple{kDeadLetterStream, "vigil.deadletter.>", limits.alert_duplicate_window_ns}}) {
    auto made = ensure_stream(bus->js_, stream, subject, window);
    if (!made) return made.error();
  }
  return bus;
}

NatsBus::~NatsBus() {
  resend_retries();  // hands the retry queue's messages back to be freed
  if (js_) {
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 1000;
    js_PublishAsyncComplete(js_, &po);
    jsCtx_Destroy(js_);
  }
  if (nc_) {
    natsConnection_Close(nc_);  // joins the reader thread: nothing delivers to a subscription after it
    for (__natsSubscription* s : retired_) natsSubscription_Destroy(s);
    natsConnection_Destroy(nc_);
  }
}

void NatsBus::retire(__natsSubscription* sub) {
  if (!sub) return;
  natsSubscription_Unsubscribe(sub);
  std::lock_guard lock(mutex_);
  retired_.push_back(sub);
}

void NatsBus::acknowledged(natsMsg* msg, bool ok, bool duplicate, int status, const char* error) {
  std::lock_guard lock(mutex_);
  if (ok) {
    ++stats_.published;
    if (duplicate) ++stats_.duplicates;
    natsMsg_Destroy(msg);
    return;
  }
  const auto st = static_cast<natsStatus>(status);
  if (st == NATS_TIMEOUT || st == NATS_NO_RESPONDERS || st == NATS_CONNECTION_CLOSED || st == NATS_CONNECTION_DISCONNECTED) {
    retry_.push_back(msg);  // sent again from the publishing thread (its id makes a second copy harmless)
    return;
  }
  ++stats_.failed;
  if (!failure_) failure_ = error && *error ? std::string(error) : std::string(natsStatus_GetText(st));
  natsMsg_Destroy(msg);
}

namespace {
// A publish that failed because the connection is down (or broke while
// writing): the library reconnects, the message goes again then.
bool transient(natsStatus s) {
  return s == NATS_IO_ERROR || s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION ||
         s == NATS_TIMEOUT || s == NATS_NO_SERVER;
}
}  // namespace

void NatsBus::resend_retries() {
  std::vector<natsMsg*> again;
  {
    std::lock_guard lock(mutex_);
    again.swap(retry_);
    stats_.retried += again.size();
  }
  std::vector<natsMsg*> still;
  for (natsMsg*& m : again) {
    const natsStatus s = js_ ? js_PublishMsgAsync(js_, &m, nullptr) : NATS_NO_SERVER;  // on success the library owns it
    if (s == NATS_OK) continue;
    if (transient(s)) {
      still.push_back(m);  // kept: flush() waits for it, so no checkpoint passes an alert not yet stored
      continue;
    }
    natsMsg_Destroy(m);
    std::lock_guard lock(mutex_);
    ++stats_.failed;
    if (!failure_) failure_ = nats_error("publishing again", s).message;
  }
  if (!still.empty()) {
    std::lock_guard lock(mutex_);
    retry_.insert(retry_.end(), still.begin(), still.end());
  }
}

Result<bool> NatsBus::publish(const OutMessage& m) {
  resend_retries();
  natsMsg* msg = nullptr;
  natsStatus s = natsMsg_Create(&msg, m.subject.c_str(), nullptr, m.data.data(), static_cast<int>(m.data.size()));
  if (s != NATS_OK) return nats_error("message", s);
  if (!m.msg_id.empty()) natsMsgHeader_Set(msg, "Nats-Msg-Id", std::string(m.msg_id).c_str());
  for (const auto& [k, v] : m.headers) natsMsgHeader_Set(msg, k.c_str(), v.c_str());
  for (int attempt = 0;; ++attempt) {
    s = js_PublishMsgAsync(js_, &msg, nullptr);
    if (s == NATS_OK) break;
    if (s == NATS_TIMEOUT) {  // stalled at max_in_flight: wait for acknowledgments, then again
      resend_retries();
      continue;
    }
    if (transient(s)) {  // the connection is down: sent again once it is back
      std::lock_guard lock(mutex_);
      retry_.push_back(msg);
      return true;
    }
    natsMsg_Destroy(msg);
    return nats_error("publishing to " + m.subject, s);
  }
  return true;
}

bool NatsBus::flush(std::int64_t timeout_ns) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::nanoseconds(timeout_ns);
  while (true) {
    resend_retries();
    jsPubOptions po;
    jsPubOptions_Init(&po);
    po.MaxWait = 2000;
    natsStatus s = js_PublishAsyncComplete(js_, &po);
    bool retries_left;
    {
      std::lock_guard lock(mutex_);
      retries_left = !retry_.empty();
    }
    if (s == NATS_OK && !retries_left) return true;
    if (s == NATS_TIMEOUT) {
      // No acknowledgment for two seconds: take the unacknowledged messages
      // back and send them again (the server drops the copies it has).
      natsMsgList pending{};
      if (js_PublishAsyncGetPendingList(&pending, js_) == NATS_OK) {
        {
          std::lock_guard lock(mutex_);
          for (int i = 0; i < pending.Count; ++i) {
            retry_.push_back(pending.Msgs[i]);
            pending.Msgs[i] = nullptr;
          }
        }
        natsMsgList_Destroy(&pending);
      }
    }
    if (std::chrono::steady_clock::now() >= end) return false;
    if (s != NATS_OK && s != NATS_TIMEOUT) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

PublishStats NatsBus::publish_stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

std::optional<std::string> NatsBus::last_failure() const {
  std::lock_guard lock(mutex_);
  return failure_;
}

std::int64_t NatsBus::max_payload() const { return natsConnection_GetMaxPayload(nc_); }

bool NatsBus::connected() const { return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED; }

// --- PartitionConsumer ---

void ReadySignal::wait(std::uint64_t seen, std::int64_t timeout_ns) {
  std::unique_lock lock(mutex);
  cv.wait_for(lock, std::chrono::nanoseconds(timeout_ns), [&] { return batches != seen; });
}

Result<std::unique_ptr<PartitionConsumer>> PartitionConsumer::open(NatsBus& bus, std::uint32_t partition,
                                                                   std::uint64_t start_seq, std::int64_t ack_wait_ns,
                                                                   std::int64_t max_ack_pending, ReadySignal& ready) {
  std::unique_ptr<PartitionConsumer> c(new PartitionConsumer());
  c->bus_ = &bus;
  c->ready_signal_ = &ready;
  c->partition_ = partition;
  c->durable_ = fmt::format("vigil-p{}", partition);
  c->next_subject_ = fmt::format("$JS.API.CONSUMER.MSG.NEXT.{}.{}", kEventsStream, c->durable_);
  c->ack_wait_ns_ = ack_wait_ns;
  c->max_ack_pending_ = max_ack_pending;
  if (natsStatus st = natsConnection_JetStream(&c->js_, bus.connection(), nullptr); st != NATS_OK) {
    return nats_error("JetStream context", st);
  }
  if (start_seq == 0) {
    jsConsumerInfo* ci = nullptr;
    jsErrCode code = static_cast<jsErrCode>(0);
    if (js_GetConsumerInfo(&ci, bus.js(), kEventsStream, c->durable_.c_str(), nullptr, &code) == NATS_OK) {
      start_seq = ci->AckFloor.Stream + 1;
      jsConsumerInfo_Destroy(ci);
    }
  }
  if (auto started = c->start(std::max<std::uint64_t>(start_seq, 1)); !started) return started.error();
  c->started_at_ = std::max<std::uint64_t>(start_seq, 1);
  c->puller_ = std::thread([p = c.get()] { p->pull_loop(); });
  return c;
}

Result<bool> PartitionConsumer::start(std::uint64_t start_seq) {
  bus_->retire(sub_);
  sub_ = nullptr;
  const std::string filter = fmt::format("vigil.events.{}.>", partition_);
  jsErrCode code = static_cast<jsErrCode>(0);
  // Made again so delivery starts exactly at start_seq (messages delivered
  // to a worker that died would otherwise come back only after ack_wait,
  // behind newer ones).
  js_DeleteConsumer(js_, kEventsStream, durable_.c_str(), nullptr, &code);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = durable_.c_str();
  cc.FilterSubject = filter.c_str();
  cc.AckPolicy = js_AckAll;
  cc.AckWait = ack_wait_ns_;
  cc.MaxAckPending = max_ack_pending_;
  if (start_seq > 1) {
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = start_seq;
  } else {
    cc.DeliverPolicy = js_DeliverAll;
  }
  jsConsumerInfo* ci = nullptr;
  natsStatus s = js_AddConsumer(&ci, js_, kEventsStream, &cc, nullptr, &code);
  if (s != NATS_OK) return nats_error(fmt::format("consumer {}", durable_), s, code);
  jsConsumerInfo_Destroy(ci);
  // Pull requests are made by hand (pull_once) and answered on this inbox.
  natsInbox* unique = nullptr;  // unique per process and consumer: no answer to another's request
  if (natsInbox_Create(&unique) != NATS_OK) return Error{"nats", "out of memory"};
  inbox_ = fmt::format("{}.p{}", unique, partition_);
  natsInbox_Destroy(unique);
  s = natsConnection_SubscribeSync(&sub_, bus_->connection(), inbox_.c_str());
  if (s != NATS_OK) return nats_error(fmt::format("subscribing to {}", inbox_), s);
  natsSubscription_SetPendingLimits(sub_, 4 * kPullBatch + 64, 256 << 20);
  request_open_ = false;  // a new inbox: no request open on it yet
  std::lock_guard lock(mutex_);
  ++generation_;
  next_consumer_seq_ = 1;
  next_stream_seq_ = start_seq;
  return true;
}

PartitionConsumer::~PartitionConsumer() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  cv_.notify_all();
  if (puller_.joinable()) puller_.join();
  for (Batch& b : ready_) {
    for (natsMsg* m : b.msgs) natsMsg_Destroy(m);
  }
  free_taken();
  natsMsg_Destroy(kept_);
  bus_->retire(sub_);  // the durable stays on the server
  if (js_) jsCtx_Destroy(js_);
}

void PartitionConsumer::free_taken() {
  for (natsMsg* m : taken_.msgs) natsMsg_Destroy(m);
  taken_.msgs.clear();
  taken_.in.clear();
}

// Pull requests, made by hand: libnats 3.4's fetch writes past its list
// when messages of an earlier, timed-out fetch are still queued (its second
// loop compares the count with a batch it has just decremented). A request
// asks for 256 messages within 100 ms; the server ends it with a status
// message (404 nothing, 408 expired, 409 ...), or by sending 256. One request
// is open at a time; its messages are handed over in batches: when it ends,
// when 256 have come, or — once caught up with the stream — when none has
// followed the last for 5 ms, so a live event waits for the next ones only
// while they keep coming, and a backlog still moves in batches of 256 (512 per request let
// the server hold over 64 MB for a busy 2-core worker of 16 partitions, and
// drop it as a slow consumer). (nats-server
// 2.9 sometimes ends an expired request without the 408: waiting 2 s for it
// was the 2 s tail of the alert latency.)
int PartitionConsumer::queued() const {
  int msgs = 0, bytes = 0;
  if (!sub_ || natsSubscription_GetPending(sub_, &msgs, &bytes) != NATS_OK) return 0;
  return msgs;
}

void PartitionConsumer::pull_once(Batch& batch, bool& gap) {
  static constexpr std::int64_t kExpiresNs = 100'000'000;
  static constexpr auto kIdle = std::chrono::milliseconds(5);
  // Past its deadline, a request whose messages still come is not over:
  // they wait in the client's queue (the worker was busy) or are still on
  // their way (the server sends a backlog as fast as the client reads). A
  // new request then would double what the server holds for this client,
  // and past 64 MB it drops the client as a slow consumer. Over is 50 ms
  // after the expiry with nothing queued and nothing come for 50 ms.
  static constexpr auto kQuiet = std::chrono::milliseconds(50);
  auto still_coming = [&] {
    return queued() > 0 || std::chrono::steady_clock::now() - last_message_ < kQuiet;
  };
  if (request_open_ && std::chrono::steady_clock::now() >= request_deadline_ && still_coming()) {
    request_deadline_ = std::chrono::steady_clock::now() + kQuiet;
  }
  if (!request_open_ || std::chrono::steady_clock::now() >= request_deadline_) {
    static const std::string body = fmt::format("{{\"batch\":{},\"expires\":{}}}", kPullBatch, kExpiresNs);
    if (natsConnection_PublishRequest(bus_->connection(), next_subject_.c_str(), inbox_.c_str(), body.data(),
                                      static_cast<int>(body.size())) != NATS_OK) {
      request_open_ = false;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the server is away: the client reconnects
      return;
    }
    request_open_ = true;
    request_left_ = kPullBatch;
    // No end from the server 50 ms after the expiry: it forgot the request
    // (nats-server 2.9 drops some expired requests without a 408) or is away;
    // the next request goes out then. A late message of this one still comes
    // to the same inbox, in order.
    request_deadline_ = std::chrono::steady_clock::now() + std::chrono::nanoseconds(kExpiresNs) +
                        std::chrono::milliseconds(50);
  }
  batch.generation = generation_;
  int received = 0;
  while (request_left_ > 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(request_deadline_ - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      if (still_coming()) {
        request_deadline_ = std::chrono::steady_clock::now() + kQuiet;
        continue;
      }
      request_open_ = false;
      break;
    }
    natsMsg* m = nullptr;
    // Caught up with the stream (the last message said nothing is pending):
    // a pause hands the batch over. Behind it, the request fills.
    const bool caught_up = !batch.in.empty() && batch.in.back().pending == 0;
    const auto wait = received > 0 && caught_up ? std::min<std::chrono::milliseconds>(left, kIdle) : left;
    if (natsSubscription_NextMsg(&m, sub_, wait.count()) != NATS_OK) {
      if (received == 0) request_open_ = false;  // expired without a word
      break;                                     // else: a pause: hand these over, the request stays open
    }
    const char* status = nullptr;
    if (natsMsg_GetDataLength(m) == 0 && natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status) {
      const bool heartbeat = std::strncmp(status, "100", 3) == 0;
      natsMsg_Destroy(m);
      if (heartbeat) continue;
      request_open_ = false;  // the request is over
      break;
    }
    --request_left_;
    ++received;
    last_message_ = std::chrono::steady_clock::now();
    std::lock_guard lock(mutex_);
    if (gap) {
      natsMsg_Destroy(m);
      continue;
    }
    InMessage in;
    in.msg = m;
    in.subject = natsMsg_GetSubject(m);
    in.data = std::string_view(natsMsg_GetData(m), static_cast<std::size_t>(natsMsg_GetDataLength(m)));
    jsMsgMetaData* meta = nullptr;
    if (natsMsg_GetMetaData(&meta, m) != NATS_OK) {  // not a JetStream message: not ours
      natsMsg_Destroy(m);
      continue;
    }
    in.stream_seq = meta->Sequence.Stream;
    in.pending = meta->NumPending;
    const std::uint64_t consumer_seq = meta->Sequence.Consumer;
    const std::uint64_t delivered = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
    if (delivered > 1 && consumer_seq < next_consumer_seq_) {  // sent again after ack_wait: pulled before
      natsMsg_Destroy(m);
      continue;
    }
    if (consumer_seq != next_consumer_seq_) {
      gap = true;
      natsMsg_Destroy(m);
      continue;
    }
    ++next_consumer_seq_;
    next_stream_seq_ = in.stream_seq + 1;
    collecting_ = true;  // pulled, not yet ready: not drained (cleared when the batch is queued)
    batch.msgs.push_back(m);
    batch.in.push_back(in);
  }
  if (request_left_ <= 0) request_open_ = false;  // all of them came: the server sends no status then
}

void PartitionConsumer::pull_loop() {
  while (true) {
    bool restart = false;
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return stop_ || restart_requested_ || ready_.size() < 2; });
      if (stop_) return;
      restart = restart_requested_;
      restart_requested_ = false;
    }
    Batch batch;
    bool gap = false;
    if (!restart) pull_once(batch, gap);
    if (restart || gap) {
      // Start again after the last message pulled.
      ++restarts_;
      std::uint64_t from;
      {
        std::lock_guard lock(mutex_);
        from = next_stream_seq_;
      }
      if (!start(from)) std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    {
      std::lock_guard lock(mutex_);
      collecting_ = false;
      if (batch.msgs.empty()) continue;
      ready_.push_back(std::move(batch));
    }
    {
      std::lock_guard lock(ready_signal_->mutex);
      ++ready_signal_->batches;
    }
    ready_signal_->cv.notify_all();
  }
}

const std::vector<InMessage>& PartitionConsumer::take() {
  free_taken();
  {
    std::lock_guard lock(mutex_);
    if (ready_.empty()) return taken_.in;  // emptied by free_taken
    taken_ = std::move(ready_.front());
    ready_.pop_front();
  }
  cv_.notify_all();
  return taken_.in;
}

Result<bool> PartitionConsumer::drained() {
  jsConsumerInfo* ci = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_GetConsumerInfo(&ci, js_, kEventsStream, durable_.c_str(), nullptr, &code);
  if (s != NATS_OK) return nats_error(fmt::format("consumer {}", durable_), s, code);
  const std::uint64_t pending = ci->NumPending;
  // Delivered.Consumer counts deliveries of this consumer (its stream
  // sequence also moves past messages the filter skips).
  const std::uint64_t delivered = ci->Delivered.Consumer;
  jsConsumerInfo_Destroy(ci);
  std::lock_guard lock(mutex_);
  if (!ready_.empty() || collecting_ || restart_requested_) return false;
  if (delivered >= next_consumer_seq_) {
    // Delivered and not (yet) pulled: in flight, or lost with a fetch that
    // timed out. Still so after twice a fetch's life: ask for them again
    // (the server would otherwise send them only after ack_wait).
    const auto now = std::chrono::steady_clock::now();
    if (suspect_seq_ != next_consumer_seq_) {
      suspect_seq_ = next_consumer_seq_;
      suspect_since_ = now;
    } else if (now - suspect_since_ > std::chrono::seconds(1)) {
      restart_requested_ = true;
      suspect_seq_ = 0;
      cv_.notify_all();
    }
    return false;
  }
  return pending == 0;
}

void PartitionConsumer::keep_for_ack(std::size_t index) {
  if (index >= taken_.msgs.size()) return;
  natsMsg_Destroy(kept_);
  kept_ = taken_.msgs[index];
  kept_generation_ = taken_.generation;
  taken_.msgs.erase(taken_.msgs.begin() + static_cast<std::ptrdiff_t>(index));
}

void PartitionConsumer::ack() {
  if (!kept_) return;
  if (kept_generation_ == generation_ && natsMsg_GetReply(kept_)) {
    natsConnection_Publish(bus_->connection(), natsMsg_GetReply(kept_), "+ACK", 4);
  }
  natsMsg_Destroy(kept_);
  kept_ = nullptr;
}

}  // namespace vigil
