#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace visitpay::bank {

// SHA-256 over data fed in pieces (a bank file read in chunks, never held whole): the digest
// that recognises a file imported before.
class Sha256Stream {
 public:
  Sha256Stream();
  ~Sha256Stream();
  Sha256Stream(const Sha256Stream&) = delete;
  Sha256Stream& operator=(const Sha256Stream&) = delete;
  void update(std::string_view data);
  std::array<std::uint8_t, 32> finish();

 private:
  void* ctx_;  // EVP_MD_CTX
};

}  // namespace visitpay::bank
