#include "api/histories.h"

#include <cstdint>
#include <cstring>
#include <vector>

#include "error.h"
#include "io/values.h"

namespace custlens {

namespace {

// "CLHIST" and the format's version. Little-endian (WebAssembly and every machine we build
// for), fixed-width fields, no padding: a header, then the columns back to back.
constexpr char kMagic[8] = {'C', 'L', 'H', 'I', 'S', 'T', '0', '1'};

struct Header {
  char magic[8];
  int32_t first_date, as_of, lapse_days;
  uint32_t flags;  // bit 0: the orders had a customer column
  uint64_t customers, days, returns, name_bytes;
};

template <class T>
void put(std::string& out, const std::vector<T>& v) {
  if (!v.empty()) out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(T));
}

class Reader {
 public:
  Reader(const char* p, size_t n) : p_(p), left_(n) {}
  template <class T>
  void get(std::vector<T>& v, uint64_t count, const char* what) {
    if (count > left_ / sizeof(T)) fail(std::string("cut short in ") + what);
    v.resize(size_t(count));
    if (count) std::memcpy(v.data(), p_, size_t(count) * sizeof(T));  // (an empty vector's data() may be null)
    p_ += count * sizeof(T);
    left_ -= count * sizeof(T);
  }
  void get(std::string& s, uint64_t count) {
    if (count > left_) fail("cut short in the ids");
    s.assign(p_, size_t(count));
    p_ += count;
    left_ -= count;
  }
  size_t left() const { return left_; }
  [[noreturn]] static void fail(const std::string& why) {
    throw InputError("bad_histories", "These are not customer histories of this engine version: " + why);
  }

 private:
  const char* p_;
  size_t left_;
};

// row i's entries [start[i], start[i + 1]) cover [0, total) in order.
void check_starts(const std::vector<uint32_t>& start, uint64_t total, const char* what) {
  if (start.front() != 0 || start.back() != total) Reader::fail(std::string("the ") + what + " do not add up");
  for (size_t i = 1; i < start.size(); ++i)
    if (start[i] < start[i - 1]) Reader::fail(std::string("the ") + what + " are out of order");
}

}  // namespace

std::string encode_histories(const Analysis& a, const std::function<std::string_view(uint32_t)>& name) {
  const CustomerColumns& c = a.customers;
  const size_t n = c.size();
  std::vector<uint64_t> name_end(n);
  uint64_t name_bytes = 0;
  for (size_t i = 0; i < n; ++i) name_end[i] = name_bytes += name(uint32_t(i)).size();
  Header h{};
  std::memcpy(h.magic, kMagic, sizeof kMagic);
  h.first_date = a.first_date, h.as_of = a.as_of, h.lapse_days = a.options.lapse_days;
  h.flags = a.has_customers ? 1 : 0;
  h.customers = n, h.days = c.purchase_days.size(), h.returns = c.return_days.size(), h.name_bytes = name_bytes;
  std::string out;
  out.reserve(sizeof h + (n + 1) * 8 + h.days * 12 + h.returns * 12 + n * 24 + name_bytes);
  out.append(reinterpret_cast<const char*>(&h), sizeof h);
  // An analysis without customers has no day or return starts at all.
  std::vector<uint32_t> none{0};
  put(out, n ? c.day_start : none);
  put(out, c.purchase_days);
  put(out, c.purchase_day_units);
  put(out, n ? c.return_start : none);
  put(out, c.return_days);
  put(out, c.return_units);
  put(out, c.orders);
  put(out, c.total_spend);
  put(out, name_end);
  for (size_t i = 0; i < n; ++i) out += name(uint32_t(i));
  return out;
}

Histories decode_histories(const char* data, size_t size) {
  Header h;
  if (size < sizeof h) Reader::fail("shorter than their header");
  std::memcpy(&h, data, sizeof h);
  if (std::memcmp(h.magic, kMagic, sizeof kMagic) != 0) Reader::fail("they do not start with CLHIST01");
  Reader r(data + sizeof h, size - sizeof h);
  // An analysis's purchase days lie in 1970-2099 (order dates outside it are rejected), and
  // its as_of (which the asOf option may set anywhere after them) within 2^22 days of the
  // first: every difference of days stays small, as do the per-day tables of the holdout
  // check. Without customers (orders without a customer column, or an asOf before every
  // order) the dates are never read.
  static const int32_t kFirst = days_from_civil(1970, 1, 1), kLast = days_from_civil(2099, 12, 31);
  const bool dates_ok = h.first_date >= kFirst && h.first_date <= kLast && h.as_of >= h.first_date &&
                        int64_t(h.as_of) - h.first_date <= (int64_t(1) << 22);
  if ((h.customers > 0 && !dates_ok) || h.lapse_days < 1 || h.flags > 1 || h.customers >= UINT32_MAX)
    Reader::fail("the header is inconsistent");
  Histories out;
  Analysis& a = out.analysis;
  CustomerColumns& c = a.customers;
  a.first_date = h.first_date, a.as_of = h.as_of;
  a.options.lapse_days = h.lapse_days;
  a.has_customers = h.flags & 1;
  const size_t n = size_t(h.customers);
  r.get(c.day_start, h.customers + 1, "the purchase days");
  r.get(c.purchase_days, h.days, "the purchase days");
  r.get(c.purchase_day_units, h.days, "the purchase days");
  r.get(c.return_start, h.customers + 1, "the returns");
  r.get(c.return_days, h.returns, "the returns");
  r.get(c.return_units, h.returns, "the returns");
  r.get(c.orders, h.customers, "the orders");
  r.get(c.total_spend, h.customers, "the total spend");
  r.get(out.name_end, h.customers, "the ids");
  r.get(out.names, h.name_bytes);
  if (r.left()) Reader::fail("bytes left over after the ids");
  check_starts(c.day_start, h.days, "purchase days");
  check_starts(c.return_start, h.returns, "returns");
  // Every sum of money stays exact in int64 units, as for the orders (decisions.md §4).
  uint64_t total = 0;
  for (const auto* units : {&c.purchase_day_units, &c.return_units})
    for (int64_t u : *units) {
      const uint64_t m = u < 0 ? 0 - uint64_t(u) : uint64_t(u);
      if (m > uint64_t(INT64_MAX) - total) Reader::fail("their amounts add up past what custlens sums exactly");
      total += m;
    }
  uint64_t prev = 0;
  for (uint64_t e : out.name_end) {
    if (e < prev || e > h.name_bytes) Reader::fail("the ids are out of order");
    prev = e;
  }
  if (n && prev != h.name_bytes) Reader::fail("the ids do not add up");
  if (!n) c.day_start.clear(), c.return_start.clear();
  // What predict() reads, from the purchase days: the BTYD summary, recency, first and last day.
  c.ids.resize(n);
  c.btyd_frequency.resize(n), c.t_x.resize(n), c.T.resize(n), c.recency_days.resize(n);
  c.first_purchase.resize(n), c.last_purchase.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint32_t b = c.day_start[i], e = c.day_start[i + 1];
    if (b == e) Reader::fail("customer " + std::to_string(i + 1) + " has no purchase day");
    for (uint32_t j = b; j < e; ++j) {
      const int32_t d = c.purchase_days[j];
      if (d < h.first_date || d > h.as_of || (j > b && d <= c.purchase_days[j - 1]))
        Reader::fail("customer " + std::to_string(i + 1) + "'s purchase days are out of order or range");
    }
    for (uint32_t j = c.return_start[i]; j < c.return_start[i + 1]; ++j)
      if (c.return_days[j] < h.first_date || c.return_days[j] > h.as_of)
        Reader::fail("customer " + std::to_string(i + 1) + "'s returns are out of range");
    const int32_t first = c.purchase_days[b], last = c.purchase_days[e - 1];
    c.ids[i] = uint32_t(i);
    c.btyd_frequency[i] = e - b - 1;
    c.first_purchase[i] = first, c.last_purchase[i] = last;
    c.t_x[i] = last - first, c.T[i] = h.as_of - first, c.recency_days[i] = h.as_of - last;
  }
  return out;
}

}  // namespace custlens
