# Writes cn_shop_orders.utf8.csv and its GBK twin cn_shop_orders.gbk.csv: a Chinese shop's
# order export as Excel saves it ("CSV (逗号分隔)": GBK, CRLF), with Chinese headers,
# 2024年8月20日 dates and ￥1,234.50 amounts (the fullwidth yen: GBK has no U+00A5). Run: python3 make_cn_shop.py (in this folder).
rows = [
    ("订单号", "买家会员名", "下单时间", "实付金额", "订单状态"),
    ("T2024082001", "张伟", "2024年8月20日", "￥1,234.50", "交易成功"),
    ("T2024082002", "王芳", "2024年8月20日", "￥89.00", "交易成功"),
    ("T2024082103", "李娜", "2024年8月21日", "￥59.70", "交易关闭"),
    ("T2024082204", "张伟", "2024年8月22日", "￥2,199.00", "交易成功"),
    ("T2024090105", "刘洋", "2024年9月1日", "￥318.00", "交易成功"),
    ("T2024090206", "王芳", "2024年9月2日", "￥45.80", "交易成功"),
    ("T2024091507", "陈静", "2024年9月15日", "￥1,088.00", "交易成功"),
    ("T2024100108", "张伟", "2024年10月1日", "￥66.60", "交易成功"),
]
text = "".join(",".join(f'"{c}"' if "," in c else c for c in r) + "\r\n" for r in rows)
open("cn_shop_orders.utf8.csv", "w", encoding="utf-8", newline="").write(text)
open("cn_shop_orders.gbk.csv", "wb").write(text.encode("gbk"))
