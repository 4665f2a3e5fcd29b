// The floor for `vigil run --nats`: pulls every message of VIGIL_EVENTS's
// partitions the way vigil does (a durable pull consumer per partition,
// filter vigil.events.<p>.>, ack-all; a thread per partition doing blocking
// fetches of 512 messages with a 100 ms expiry), touches each payload, acks
// the last message of each fetch, and stops when every partition's fetch
// times out with nothing pending on the server. No decoding, no rules.
// Prints "<messages> <bytes>".
//
// usage: nats_bare_consumer URL PARTITIONS
#include <nats/nats.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

namespace {

std::atomic<unsigned long long> g_messages{0}, g_bytes{0}, g_checksum{0};

bool drained(jsCtx* js, const std::string& name) {
  jsConsumerInfo* ci = nullptr;
  if (js_GetConsumerInfo(&ci, js, "VIGIL_EVENTS", name.c_str(), nullptr, nullptr) != NATS_OK) return false;
  const bool done = ci->NumPending == 0 && ci->NumAckPending == 0;
  jsConsumerInfo_Destroy(ci);
  return done;
}

void pull(natsConnection* nc, int p) {
  jsCtx* js = nullptr;  // one JetStream context per thread
  if (natsConnection_JetStream(&js, nc, nullptr) != NATS_OK) std::exit(2);
  const std::string name = "bare-p" + std::to_string(p), filter = "vigil.events." + std::to_string(p) + ".>";
  js_DeleteConsumer(js, "VIGIL_EVENTS", name.c_str(), nullptr, nullptr);
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = name.c_str();
  cc.FilterSubject = filter.c_str();
  cc.AckPolicy = js_AckAll;
  cc.AckWait = 60000000000LL;
  cc.MaxAckPending = 1 << 20;
  jsConsumerInfo* ci = nullptr;
  if (js_AddConsumer(&ci, js, "VIGIL_EVENTS", &cc, nullptr, nullptr) != NATS_OK) std::exit(2);
  jsConsumerInfo_Destroy(ci);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = "VIGIL_EVENTS";
  so.Consumer = name.c_str();
  natsSubscription* sub = nullptr;
  if (js_PullSubscribe(&sub, js, filter.c_str(), name.c_str(), nullptr, &so, nullptr) != NATS_OK) std::exit(2);
  for (;;) {
    jsFetchRequest req;
    jsFetchRequest_Init(&req);
    // Messages that came after an earlier fetch gave up wait in the
    // subscription and go into the next fetch's list, which libnats 3.4
    // sizes by Batch: ask for at least that many (as vigil does).
    int queued = 0, queued_bytes = 0;
    natsSubscription_GetPending(sub, &queued, &queued_bytes);
    req.Batch = queued + 512;
    req.Expires = 100000000;
    natsMsgList list{};
    natsStatus s = natsSubscription_FetchRequest(&list, sub, &req);
    if (s != NATS_OK || list.Count == 0) {
      natsMsgList_Destroy(&list);
      if (drained(js, name)) break;
      continue;
    }
    unsigned long long bytes = 0, sum = 0;
    for (int i = 0; i < list.Count; ++i) {
      const char* d = natsMsg_GetData(list.Msgs[i]);
      const int n = natsMsg_GetDataLength(list.Msgs[i]);
      bytes += static_cast<unsigned long long>(n);
      if (n > 0) sum += static_cast<unsigned char>(d[n / 2]);
    }
    natsMsg_Ack(list.Msgs[list.Count - 1], nullptr);
    g_messages += static_cast<unsigned long long>(list.Count);
    g_bytes += bytes;
    g_checksum += sum;
    natsMsgList_Destroy(&list);
  }
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s URL PARTITIONS\n", argv[0]);
    return 2;
  }
  const int partitions = std::atoi(argv[2]);
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK) {
    std::fprintf(stderr, "cannot connect to %s\n", argv[1]);
    return 2;
  }
  std::vector<std::thread> threads;
  for (int p = 0; p < partitions; ++p) threads.emplace_back(pull, nc, p);
  for (auto& t : threads) t.join();
  std::printf("%llu %llu\n", g_messages.load(), g_bytes.load());
  std::fprintf(stderr, "checksum %llu\n", g_checksum.load());
  natsConnection_Destroy(nc);
  return 0;
}
