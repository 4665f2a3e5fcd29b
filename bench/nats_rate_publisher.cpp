// The steady publisher of run_nats_bench.py's latency run: events offered at
// a fixed rate over plain NATS publishes (the stream VIGIL_EVENTS captures
// them), in 1 ms slices, each with @timestamp set to the wall clock, and a
// probe event (which the bench's probe rule alerts on) 10 times a second.
// Python's own publisher tops out near 12.5 k events/s; this one offers
// 20 k/s and more on the same machine.
//
// EVENTS holds one event per line as "<subject>\t<json>", the JSON's
// "@timestamp" value a 24-character placeholder this program overwrites
// (the width of "2026-12-02T08:09:06.123Z"). Prints, per probe, "probe
// <name> <CLOCK_MONOTONIC seconds at its publish>" (the clock of Python's
// time.perf_counter), and at the end "offered <events per second>".
//
// usage: nats_rate_publisher URL EVENTS RATE SECONDS PARTITIONS HOSTS
#include <nats/nats.h>

#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Line {
  std::string subject, json;
  std::size_t stamp = std::string::npos;  // where the timestamp's 24 characters start
};

constexpr std::size_t kStampWidth = 24;

// docs/streaming.md: FNV-1a (32 bit) of host.name in ASCII lower case, mod N.
unsigned partition_of(const std::string& host, unsigned n) {
  std::uint32_t h = 2166136261u;
  for (unsigned char c : host) {
    h = (h ^ static_cast<unsigned char>(std::tolower(c))) * 16777619u;
  }
  return h % n;
}

void stamp_now(char* out) {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[96];  // room for any int the compiler sees
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", t.tm_year + 1900, t.tm_mon + 1, t.tm_mday,
                t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1000000);
  std::memcpy(out, buf, kStampWidth);
}

double monotonic() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: nats_rate_publisher URL EVENTS RATE SECONDS PARTITIONS HOSTS\n");
    return 2;
  }
  const long rate = std::atol(argv[3]);
  const double seconds = std::atof(argv[4]);
  const unsigned partitions = static_cast<unsigned>(std::atoi(argv[5]));
  const int hosts = std::atoi(argv[6]);
  std::vector<Line> lines;
  {
    std::ifstream in(argv[2], std::ios::binary);
    for (std::string text; std::getline(in, text);) {
      const auto tab = text.find('\t');
      if (tab == std::string::npos) continue;
      Line l{text.substr(0, tab), text.substr(tab + 1)};
      const auto at = l.json.find("\"@timestamp\":\"");
      if (at != std::string::npos && at + 14 + kStampWidth < l.json.size()) l.stamp = at + 14;
      lines.push_back(std::move(l));
    }
  }
  if (lines.empty() || rate <= 0 || partitions == 0 || hosts <= 0) {
    std::fprintf(stderr, "nats_rate_publisher: no events, or a rate, partition or host count of 0\n");
    return 2;
  }
  natsConnection* nc = nullptr;
  if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK) {
    std::fprintf(stderr, "nats_rate_publisher: cannot connect to %s\n", argv[1]);
    return 2;
  }
  const long slices = static_cast<long>(seconds * 1000);
  const double start = monotonic();
  std::size_t next = 0;
  long sent = 0, probes = 0;
  for (long s = 0; s < slices; ++s) {
    // The events due by the end of this millisecond (a fractional rate
    // spreads evenly over the slices).
    const long due = (s + 1) * rate / 1000;
    char stamp[kStampWidth];
    stamp_now(stamp);
    for (; sent < due; ++sent) {
      Line& l = lines[next];
      next = (next + 1) % lines.size();
      if (l.stamp != std::string::npos) std::memcpy(l.json.data() + l.stamp, stamp, kStampWidth);
      if (natsConnection_Publish(nc, l.subject.c_str(), l.json.data(), static_cast<int>(l.json.size())) != NATS_OK) {
        std::fprintf(stderr, "nats_rate_publisher: publish failed\n");
        return 1;
      }
    }
    if (s % 100 == 0) {
      const std::string name = "probe-" + std::to_string(probes);
      const std::string host = "bench-host-" + std::to_string(probes % hosts);
      std::string doc = "{\"@timestamp\":\"" + std::string(stamp, kStampWidth) + "\",\"host\":{\"name\":\"" + host +
                        "\"},\"event\":{\"category\":[\"process\"],\"type\":[\"start\"]},\"process\":{\"name\":"
                        "\"vigil-latency-probe.exe\",\"args\":[\"" + name + "\"]}}";
      const std::string subject = "vigil.events." + std::to_string(partition_of(host, partitions)) + "." + host;
      const double at = monotonic();
      if (natsConnection_Publish(nc, subject.c_str(), doc.data(), static_cast<int>(doc.size())) != NATS_OK) return 1;
      std::printf("probe %s %.6f\n", name.c_str(), at);
      ++probes;
    }
    const double wait = start + static_cast<double>(s + 1) / 1000 - monotonic();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::duration<double>(wait));
  }
  natsConnection_FlushTimeout(nc, 10000);
  std::printf("offered %.0f\n", static_cast<double>(sent) / (monotonic() - start));
  natsConnection_Destroy(nc);
  nats_Close();
  return 0;
}
