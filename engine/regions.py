"""The region of a case: the province its customer's address names (dashboard, R25).

Cases carry no region field yet; the province is read from the address: a province's name at the
start ("浙江省杭州市…", "上海市…"), else a prefecture-level city it knows ("杭州市西湖区…" → 浙江).
An address it cannot place gives ``None`` (shown as 未知 on the dashboard).
"""

from __future__ import annotations

PROVINCES = ("北京", "天津", "上海", "重庆", "河北", "山西", "辽宁", "吉林", "黑龙江", "江苏", "浙江", "安徽", "福建",
             "江西", "山东", "河南", "湖北", "湖南", "广东", "海南", "四川", "贵州", "云南", "陕西", "甘肃", "青海",
             "台湾", "内蒙古", "广西", "西藏", "宁夏", "新疆", "香港", "澳门")

# the provincial capitals and the larger prefecture-level cities, by province
_CITIES = {
    "河北": "石家庄 唐山 保定 邯郸 廊坊 沧州 秦皇岛 邢台 张家口 承德 衡水",
    "山西": "太原 大同 运城 临汾 长治 晋中",
    "辽宁": "沈阳 大连 鞍山 抚顺 锦州 营口 丹东",
    "吉林": "长春 延边",
    "黑龙江": "哈尔滨 齐齐哈尔 大庆 牡丹江 佳木斯",
    "江苏": "南京 苏州 无锡 常州 南通 徐州 扬州 镇江 泰州 盐城 淮安 连云港 宿迁",
    "浙江": "杭州 宁波 温州 嘉兴 湖州 绍兴 金华 衢州 舟山 台州 丽水",
    "安徽": "合肥 芜湖 蚌埠 安庆 马鞍山 阜阳 淮南",
    "福建": "福州 厦门 泉州 漳州 莆田 龙岩 三明 南平 宁德",
    "江西": "南昌 赣州 九江 上饶 宜春 景德镇",
    "山东": "济南 青岛 烟台 潍坊 淄博 临沂 济宁 威海 泰安 德州 聊城 日照 东营",
    "河南": "郑州 洛阳 开封 新乡 南阳 许昌 安阳 商丘 平顶山 焦作",
    "湖北": "武汉 宜昌 襄阳 荆州 十堰 黄石 孝感",
    "湖南": "长沙 株洲 湘潭 衡阳 岳阳 常德 郴州",
    "广东": "广州 深圳 东莞 佛山 珠海 中山 惠州 汕头 江门 湛江 肇庆",
    "海南": "海口 三亚",
    "四川": "成都 绵阳 德阳 宜宾 南充 泸州 乐山",
    "贵州": "贵阳 遵义",
    "云南": "昆明 大理 曲靖 玉溪",
    "陕西": "西安 宝鸡 咸阳 榆林 延安",
    "甘肃": "兰州 天水",
    "青海": "西宁",
    "内蒙古": "呼和浩特 包头 鄂尔多斯 赤峰",
    "广西": "南宁 柳州 桂林 北海",
    "西藏": "拉萨",
    "宁夏": "银川",
    "新疆": "乌鲁木齐 克拉玛依",
}
CITIES = {city: province for province, names in _CITIES.items() for city in names.split()}


def region_of(address: object) -> str | None:
    """The province an address names, or None."""
    if not isinstance(address, str):
        return None
    text = address.strip().removeprefix("中国").strip()
    for province in PROVINCES:
        if text.startswith(province):
            return province
    for length in (4, 3, 2):
        found = CITIES.get(text[:length])
        if found:
            return found
    return None
