// HeldDetections: the detections an Alerter holds until they become alerts
// (a batch hunt holds every one until its input ends), by handle. Their
// documents are most of the bytes: beyond a byte budget shared by all of a
// pipeline's rules, a detection is encoded into a spill file and only its
// position stays in memory (a hash map entry of 24 bytes), so memory does not grow with
// the number of detections.
#pragma once

#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/spill_file.h"
#include "detect/hunt_engine.h"

namespace vigil {

struct DetectionSpill {
  explicit DetectionSpill(std::size_t budget_bytes) : budget(budget_bytes) {}
  SpillFile file;
  std::size_t budget;
  std::size_t in_memory = 0;  // bytes of the detections held in memory
  std::uint64_t spilled = 0;  // detections written to the file
};

class HeldDetections {
 public:
  explicit HeldDetections(DetectionSpill& spill) : spill_(&spill) {}
  ~HeldDetections() { clear(); }
  HeldDetections(const HeldDetections&) = delete;
  HeldDetections& operator=(const HeldDetections&) = delete;

  void put(std::uint64_t handle, Detection detection);
  // Removes and returns the detection (nullopt: none under that handle).
  std::optional<Detection> take(std::uint64_t handle);
  void erase(std::uint64_t handle);
  std::size_t size() const { return held_.size() + spilled_.size(); }
  void clear();

  // Checkpoints: the same bytes as an unordered_map<uint64_t, Detection>.
  void save(Encoder& out) const;
  void load(Decoder& in);
  template <typename F>
  void for_each_handle(F&& f) const {
    for (const auto& [handle, d] : held_) f(handle);
    for (const auto& [handle, r] : spilled_) f(handle);
  }
  // The detection's times and ordinal without taking it (spilled ones are read).
  Detection peek(std::uint64_t handle) const;

 private:
  DetectionSpill* spill_;
  std::unordered_map<std::uint64_t, Detection> held_;        // in memory
  std::unordered_map<std::uint64_t, SpillRecord> spilled_;  // in the spill file
};

}  // namespace vigil
