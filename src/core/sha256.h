// SHA-256 (FIPS 180-4). The HTML report's Content-Security-Policy names its
// inline script and style by their SHA-256 digest ('sha256-<base64>'), so the
// browser runs those and nothing else.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace vigil {

std::array<std::uint8_t, 32> sha256(std::string_view bytes);

}  // namespace vigil
