#include "data/status.h"

#include "io/values.h"

namespace custlens {

const std::vector<StatusRule>& status_rules() {
  // Excluded: the order never became a sale, or all of it was refunded. Sources: Shopify's
  // financial statuses, WooCommerce's order statuses, Taobao/Tmall/JD/Douyin wording
  // (../shared/spec/exports.md). "authorized" counts as a sale: the payment is secured.
  static const std::vector<StatusRule> kRules = {
      {"cancelled", true}, {"canceled", true}, {"closed", true}, {"voided", true}, {"void", true},
      {"failed", true}, {"unpaid", true}, {"refunded", true}, {"fullyrefunded", true},
      {"expired", true}, {"pending", true}, {"pendingpayment", true}, {"awaitingpayment", true},
      {"onhold", true}, {"declined", true}, {"rejected", true}, {"draft", true}, {"abandoned", true},
      {"交易关闭", true}, {"已关闭", true}, {"订单关闭", true}, {"已取消", true}, {"取消", true},
      {"订单取消", true}, {"交易取消", true}, {"等待买家付款", true}, {"待付款", true}, {"未付款", true},
      {"待支付", true}, {"未支付", true}, {"已全额退款", true}, {"全额退款", true}, {"退款成功", true},
      {"已退款", true}, {"交易失败", true}, {"支付失败", true}, {"已失效", true},
      {"paid", false}, {"partiallypaid", false}, {"partiallyrefunded", false}, {"authorized", false},
      {"completed", false}, {"complete", false}, {"processing", false}, {"shipped", false},
      {"delivered", false}, {"fulfilled", false}, {"success", false}, {"succeeded", false},
      {"settled", false}, {"approved", false},
      {"交易成功", false}, {"已完成", false}, {"已付款", false}, {"已支付", false}, {"支付成功", false},
      {"已发货", false}, {"待发货", false}, {"卖家已发货", false}, {"买家已付款", false},
      {"等待卖家发货", false}, {"等待买家确认收货", false}, {"已签收", false}, {"部分退款", false},
      {"已收货", false}, {"已确认收货", false}};
  return kRules;
}

std::string normalize_status(std::string_view s) {
  s = trim(s);
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    out += (c >= 'A' && c <= 'Z') ? char(c - 'A' + 'a') : c;
  }
  if (out.rfind("wc", 0) == 0 && out.size() > 2) out = out.substr(2);  // WooCommerce's "wc-completed"
  return out;
}

StatusClass classify_status(std::string_view status) {
  std::string n = normalize_status(status);
  StatusClass c;
  if (n.empty()) {  // no status written: an ordinary sale
    c.known = true;
    return c;
  }
  for (const auto& r : status_rules())
    if (n == r.word) {
      c.known = true;
      c.excluded = r.excluded;
      return c;
    }
  return c;
}

}  // namespace custlens
