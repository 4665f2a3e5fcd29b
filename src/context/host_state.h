// HostState: what the pass has seen on each host, kept so an alert can say
// where its process came from. From the events as they stream by it keeps,
// per host: processes (from process starts, and from any event naming a
// process), the modules each process loaded, which process wrote each file,
// and each process's network connections. Everything is bounded: processes
// and files by a cap with the least recently seen evicted (counted), modules
// and connections to the last few per process.
//
// context_json() renders the triage context of one event for its alert:
// process ancestry (up to 8 generations), modules loaded by the process,
// the provenance of the files the event names, and the process's connections.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/codec.h"
#include "core/event.h"
#include "core/field_registry.h"

namespace vigil {

struct HostStateLimits {
  std::size_t max_processes = 200000;  // all hosts
  std::size_t max_files = 200000;      // all hosts
  std::size_t modules_per_process = 16;
  std::size_t connections_per_process = 16;
  int ancestry_depth = 8;
};

struct HostStateStats {
  std::uint64_t processes_evicted = 0;
  std::uint64_t files_evicted = 0;
};

class HostState {
 public:
  // Registers the fields it reads (they join the reader's projection).
  HostState(FieldRegistry& fields, HostStateLimits limits = {});
  ~HostState();

  void observe(const Event& event);
  // The triage context of `event` as a JSON object ("{}" when nothing is known).
  std::string context_json(const Event& event) const;
  const HostStateStats& stats() const { return stats_; }
  // The serialized form (stream checkpoints).
  void save(Encoder& out) const;
  void load(Decoder& in);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  HostStateStats stats_;
};

}  // namespace vigil
