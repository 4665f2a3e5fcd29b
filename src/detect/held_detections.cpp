// HeldDetections implementation.
#include "detect/held_detections.h"

#include "core/codec.h"

namespace vigil {

namespace {
Detection decode(const DetectionSpill& spill, SpillRecord record) {
  std::string bytes;
  spill.file.read(record, bytes);
  Decoder d(bytes);
  Detection detection;
  d(detection);
  return detection;
}
}  // namespace

void HeldDetections::put(std::uint64_t handle, Detection detection) {
  erase(handle);
  const std::size_t bytes = bytes_of(detection);
  if (spill_->in_memory + bytes <= spill_->budget) {
    spill_->in_memory += bytes;
    held_.emplace(handle, std::move(detection));
    return;
  }
  std::string encoded;
  Encoder e(encoded);
  e(detection);
  spilled_.emplace(handle, spill_->file.append(encoded));
  ++spill_->spilled;
}

std::optional<Detection> HeldDetections::take(std::uint64_t handle) {
  if (auto it = held_.find(handle); it != held_.end()) {
    spill_->in_memory -= bytes_of(it->second);
    Detection d = std::move(it->second);
    held_.erase(it);
    return d;
  }
  if (auto it = spilled_.find(handle); it != spilled_.end()) {
    Detection d = decode(*spill_, it->second);
    spilled_.erase(it);
    return d;
  }
  return std::nullopt;
}

Detection HeldDetections::peek(std::uint64_t handle) const {
  if (auto it = held_.find(handle); it != held_.end()) return it->second;
  return decode(*spill_, spilled_.at(handle));
}

void HeldDetections::erase(std::uint64_t handle) {
  if (auto it = held_.find(handle); it != held_.end()) {
    spill_->in_memory -= bytes_of(it->second);
    held_.erase(it);
    return;
  }
  spilled_.erase(handle);
}

void HeldDetections::clear() {
  for (const auto& [handle, d] : held_) spill_->in_memory -= bytes_of(d);
  held_.clear();
  spilled_.clear();
}

void HeldDetections::save(Encoder& out) const {
  out.varint(size());
  for (const auto& [handle, d] : held_) {
    out(handle);
    out(d);
  }
  for (const auto& [handle, record] : spilled_) {
    out(handle);
    out(decode(*spill_, record));
  }
}

void HeldDetections::load(Decoder& in) {
  clear();
  std::unordered_map<std::uint64_t, Detection> held;
  in(held);
  for (auto& [handle, detection] : held) put(handle, std::move(detection));
}

}  // namespace vigil
