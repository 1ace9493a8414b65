#include "services/text/piece_cache.h"

#include <cstring>
#include <functional>
#include <thread>

namespace quarry::text {

PieceCache::PieceCache() : entries_(new Entry[kEntries]) {}

PieceCache::Key PieceCache::MakeKey(absl::string_view piece) {
  unsigned char bytes[16] = {};
  std::memcpy(bytes, piece.data(), piece.size());
  bytes[15] = static_cast<unsigned char>(piece.size());
  Key key;
  std::memcpy(&key.low, bytes, 8);
  std::memcpy(&key.high, bytes + 8, 8);
  return key;
}

size_t PieceCache::EntryIndex(const Key& key) {
  // Multiplicative hashing: the top bits of the product depend on every bit of the key.
  const uint64_t mixed = (key.low ^ (key.high * 0x9E3779B97F4A7C15ull)) * 0xD6E8FEB86659FD93ull;
  static_assert((kEntries & (kEntries - 1)) == 0, "kEntries must be a power of two");
  return static_cast<size_t>(mixed >> 52) & (kEntries - 1);
}

absl::Span<const uint32_t> PieceCache::Find(absl::string_view piece) const {
  if (piece.size() > kMaxPieceBytes) return {};
  const Key key = MakeKey(piece);
  const Entry& entry = entries_[EntryIndex(key)];
  if (entry.id_count == 0 || !(entry.key == key)) return {};
  return absl::MakeConstSpan(entry.ids, entry.id_count);
}

void PieceCache::Insert(absl::string_view piece, absl::Span<const uint32_t> ids) {
  if (piece.size() > kMaxPieceBytes || ids.empty() || ids.size() > kMaxIds) return;
  const Key key = MakeKey(piece);
  Entry& entry = entries_[EntryIndex(key)];
  entry.key = key;
  std::copy(ids.begin(), ids.end(), entry.ids);
  entry.id_count = static_cast<uint32_t>(ids.size());
}

PieceCachePool::Lease::Lease(Lease&& other) noexcept : lent_(other.lent_), cache_(other.cache_) {
  other.lent_ = nullptr;
  other.cache_ = nullptr;
}

PieceCachePool::Lease::~Lease() {
  if (lent_ != nullptr) lent_->store(false, std::memory_order_release);
}

PieceCachePool::PieceCachePool(size_t caches) : slots_(caches) {}

PieceCachePool::Lease PieceCachePool::Borrow() {
  // Threads start their search at different slots, so that they rarely contend for one.
  const size_t first = std::hash<std::thread::id>()(std::this_thread::get_id()) % slots_.size();
  for (size_t k = 0; k < slots_.size(); ++k) {
    Slot& slot = slots_[(first + k) % slots_.size()];
    if (slot.lent.load(std::memory_order_relaxed) ||
        slot.lent.exchange(true, std::memory_order_acquire)) {
      continue;
    }
    if (slot.cache == nullptr) slot.cache = std::make_unique<PieceCache>();
    return Lease(&slot.lent, slot.cache.get());
  }
  return Lease(nullptr, nullptr);
}

}  // namespace quarry::text
