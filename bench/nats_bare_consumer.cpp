// The floor for `vigil run --nats`: pulls every message of VIGIL_EVENTS's
// partitions the way vigil does (a durable pull consumer per partition,
// filter vigil.events.<p>.>, ack-all; a thread per partition doing blocking
// fetches of 256 messages with a 100 ms expiry), touches each payload, acks
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
  // Pull requests made by hand on a plain inbox, as vigil makes them
  // (libnats 3.4's fetch overruns its list when a timed-out fetch's messages
  // are still queued).
  natsInbox* inbox = nullptr;
  natsInbox_Create(&inbox);
  natsSubscription* sub = nullptr;
  if (natsConnection_SubscribeSync(&sub, nc, inbox) != NATS_OK) std::exit(2);
  natsSubscription_SetPendingLimits(sub, 4 * 256 + 64, 256 << 20);
  const std::string next = "$JS.API.CONSUMER.MSG.NEXT.VIGIL_EVENTS." + name;
  const std::string body = "{\"batch\":256,\"expires\":100000000}";
  for (;;) {
    if (natsConnection_PublishRequest(nc, next.c_str(), inbox, body.data(), static_cast<int>(body.size())) != NATS_OK) {
      std::exit(2);
    }
    int received = 0;
    unsigned long long bytes = 0, sum = 0;
    natsMsg* last = nullptr;
    while (received < 256) {
      natsMsg* m = nullptr;
      if (natsSubscription_NextMsg(&m, sub, 2100) != NATS_OK) break;
      const char* status = nullptr;
      if (natsMsg_GetDataLength(m) == 0 && natsMsgHeader_Get(m, "Status", &status) == NATS_OK && status) {
        natsMsg_Destroy(m);
        break;
      }
      ++received;
      const char* d = natsMsg_GetData(m);
      const int n = natsMsg_GetDataLength(m);
      bytes += static_cast<unsigned long long>(n);
      if (n > 0) sum += static_cast<unsigned char>(d[n / 2]);
      natsMsg_Destroy(last);
      last = m;
    }
    if (last) {
      natsConnection_Publish(nc, natsMsg_GetReply(last), "+ACK", 4);
      natsMsg_Destroy(last);
    }
    g_messages += static_cast<unsigned long long>(received);
    g_bytes += bytes;
    g_checksum += sum;
    if (received == 0 && drained(js, name)) break;
  }
  natsInbox_Destroy(inbox);
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
