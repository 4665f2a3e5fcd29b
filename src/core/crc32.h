// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320: the checksum EVTX
// chunks, zip and gzip use), the same values as zlib's crc32(). Long inputs
// are folded 64 bytes at a time with carry-less multiplication (PCLMULQDQ)
// when the build targets a CPU that has it; the rest goes through zlib.
#pragma once

#include <cstddef>
#include <cstdint>

namespace vigil {

// Continues `crc` (0 to start) over `len` bytes, as zlib's crc32(crc, data, len).
std::uint32_t crc32(std::uint32_t crc, const void* data, std::size_t len);

}  // namespace vigil
