#!/usr/bin/env python3
"""Writes the demo township's village spreadsheets (2021), the way clerks keep them:
old .xls files with a title row, Chinese dates, 合计 rows and a 填表人 footer.
`pufa demo` imports them through the real import pipeline.

    pip install xlwt && python3 imports/demo/make_demo.py
"""
import os
import random

import xlwt

HERE = os.path.dirname(os.path.abspath(__file__))
VILLAGES = ["龙凤村", "石桥村", "双河村", "青龙村", "白鹤村", "金竹村", "团结村", "新华村", "龙凤社区", "场镇社区"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何罗高林"
GIVEN = ["明", "华", "军", "芳", "丽", "强", "敏", "静", "伟", "勇", "秀英", "建国", "桂兰", "志强", "德华", "春梅", "国庆", "玉兰", "文", "洪"]
random.seed(2021)
used = set()


def person_name():
    while True:
        name = random.choice(SURNAMES) + random.choice(GIVEN)
        if name not in used:
            used.add(name)
            return name


def phone():
    return "1" + random.choice("3589") + "".join(random.choice("0123456789") for _ in range(9))


def save(name, title, headers, rows, total=None):
    book = xlwt.Workbook(encoding="utf-8")
    sheet = book.add_sheet("Sheet1")
    sheet.write(0, 0, title)
    for c, h in enumerate(headers):
        sheet.write(1, c, h)
    for r, row in enumerate(rows, start=2):
        for c, value in enumerate(row):
            if value is not None and value != "":
                sheet.write(r, c, value)
    last = len(rows) + 2
    if total is not None:
        sheet.write(last, 0, "合计")
        sheet.write(last, total[0], total[1])
        last += 1
    sheet.write(last, 0, "填表人：文书　审核人：支部书记")
    book.save(os.path.join(HERE, name))


# Township organ: cadres who study before every Party committee meeting.
cadres = [person_name() for _ in range(15)]
posts = ["党委书记", "镇长", "党委副书记", "人大主席", "副镇长", "副镇长", "纪委书记", "组织委员", "宣传委员",
         "武装部长", "党政办主任", "司法所长", "综治办主任", "财政所长", "社事办主任"]
save("01_镇机关人员花名册.xls", "龙凤场镇机关干部花名册（2021年）",
     ["姓名", "村(社区)", "性别", "职务", "身份类别", "联系电话"],
     [[n, "镇机关", random.choice("男女"), posts[i], "镇干部、党员", phone()] for i, n in enumerate(cadres)])

# Village rosters: cadres, 法律明白人 (12 newly certified in 2021), mediators, grid workers.
new_literates = {v: 0 for v in VILLAGES}
for i in range(12):
    new_literates[VILLAGES[i % 8]] += 1  # eight villages train 12 in 2021
village_people = {}
for index, village in enumerate(VILLAGES):
    rows = []
    names = []
    for post in ["党支部书记", "村委会主任", "村委会副主任", "监委会主任", "文书"]:
        n = person_name()
        names.append(n)
        rows.append([n, random.choice("男女"), post, "村干部、党员", phone(), ""])
    earlier = 2 if index < 8 else 1  # two communities stay below the target of 3
    for _ in range(earlier):
        n = person_name()
        names.append(n)
        rows.append([n, random.choice("男女"), "村民", "法律明白人", phone(), "2020年%d月%d日" % (random.randint(3, 11), random.randint(1, 28))])
    for _ in range(new_literates[village]):
        n = person_name()
        names.append(n)
        rows.append([n, random.choice("男女"), "网格员", "法律明白人、网格员", phone(), "2021年%d月%d日" % (random.randint(3, 11), random.randint(1, 28))])
    for _ in range(2):
        n = person_name()
        names.append(n)
        rows.append([n, random.choice("男女"), "调解委员", "人民调解员", phone(), ""])
    village_people[village] = names
    save("%02d_%s花名册.xls" % (index + 2, village), "%s2021年人员花名册" % village,
         ["姓名", "性别", "职务", "身份类别", "联系电话", "认定日期"], rows)

# Township sign-in ledger: monthly 会前学法, three 党委会专题学法, 法治讲座 for cadres.
sessions = []
for month in range(1, 13):
    day = next(d for d in range(1, 8) if __import__("datetime").date(2021, month, d).weekday() == 0)
    sessions.append(("2021年%d月%d日" % (month, day), "会前学法：%s" % ["宪法", "民法典总则编", "行政处罚法", "安全生产法", "土地管理法",
        "乡村振兴促进法", "民法典物权编", "反有组织犯罪法", "个人信息保护法", "数据安全法", "家庭教育促进法", "法律援助法"][month - 1], "会前学法", 1))
for month, topic in [(3, "学习贯彻习近平法治思想"), (7, "法治政府建设实施纲要（2021—2025年）"), (11, "八五普法规划")]:
    sessions.append(("2021年%d月15日" % month, "党委会专题学法：%s" % topic, "党委会专题学法", 1.5))
for month, topic in [(4, "民法典与基层治理"), (6, "依法行政与行政诉讼"), (9, "信访工作条例"), (12, "宪法宣传周专题讲座")]:
    sessions.append(("2021年%d月20日" % month, "法治讲座：%s" % topic, "法治讲座", 2))
rows = []
for date, topic, kind, hours in sessions:
    for n in cadres:
        status = random.choices(["√", "迟到", "请假"], weights=[88, 6, 6])[0]
        rows.append([date, topic, n, "镇机关", status, hours if status != "请假" else "", kind])
save("20_镇机关学法签到汇总表.xls", "龙凤场镇2021年学法签到汇总表",
     ["日期", "学习内容", "姓名", "村(社区)", "签到情况", "学时", "学习形式"], rows)

# Materials handed out per village (2,000+ copies in all).
titles = [("民法典宣传手册", "手册", "册"), ("宪法宣传折页", "折页", "份"), ("禁毒宣传单", "宣传单", "份"),
          ("防范电信诈骗海报", "海报", "张"), ("农民工维权指南", "手册", "册")]
for index, village in enumerate(VILLAGES):
    rows = []
    total = 0
    for month in random.sample(range(1, 13), 5):
        title, kind, unit = random.choice(titles)
        quantity = random.choice([30, 40, 50, 60])
        total += quantity
        rows.append(["2021.%d.%d" % (month, random.randint(1, 28)), title, kind, "%d%s" % (quantity, unit),
                     random.choice(["村民", "外出务工返乡人员", "中小学生", "企业职工"]), "村委会", village_people[village][4]])
    save("%02d_%s普法资料发放登记表.xls" % (index + 30, village), "%s2021年普法资料发放登记表" % village,
         ["发放日期", "资料名称", "资料类型", "数量", "发放对象", "发放地点", "经办人"], rows, total=(3, total))

# Outreach activities per village: 法律七进, four audience groups reached.
plans = [("禁毒宣传进校园", "宣传摊点", "学校", "青少年"), ("农民工讨薪法律咨询", "法律咨询", "乡村", "外出务工人员"),
         ("法律服务进山村", "讲座", "乡村", "边远山村群众"), ("安全生产法进企业", "讲座", "企业", "企业职工"),
         ("宪法宣传日集中宣传", "宣传摊点", "社区", "群众"), ("民法典院坝会", "讲座", "乡村", "群众")]
for index, village in enumerate(VILLAGES):
    rows = []
    for month, (topic, form, place, group) in zip(sorted(random.sample(range(1, 13), 4)), random.sample(plans, 4)):
        rows.append(["2021年%d月%d日" % (month, random.randint(1, 28)), topic, form, place, group,
                     "%d人次" % random.randint(30, 150), "司法所干部", village + "村委会"])
    save("%02d_%s普法活动台账.xls" % (index + 50, village), "%s2021年普法活动台账" % village,
         ["活动日期", "活动主题", "活动形式", "法律七进", "受众对象", "参与人数", "主讲人", "活动地点"], rows)

# Self-study registers (自学登记表): township cadres study on their own through the year
# (the county asks for 20 hours); two of them fall short. 龙凤村's cadres keep one too.
# Written last, so the files above come out the same as before.
readings = ["《中华人民共和国宪法》", "《民法典》总则编", "《民法典》第三编 合同", "《行政处罚法》", "《行政许可法》",
            "《信访工作条例》", "《土地管理法》", "《安全生产法》", "习近平法治思想学习纲要", "《法律援助法》"]
forms = ["读书", "网络学习", "观看视频", "学习强国"]
rows = []
for i, n in enumerate(cadres):
    target = 10 if i in (4, 11) else random.choice([22, 24, 26, 30])
    hours_done = 0
    while hours_done < target:
        hours = random.choice([1, 1.5, 2, 2, 3])
        hours_done += hours
        rows.append(["2021年%d月%d日" % (random.randint(1, 12), random.randint(1, 28)), n, "镇机关",
                     random.choice(readings), random.choice(forms), hours])
rows.sort(key=lambda r: (int(r[0].split("年")[1].split("月")[0]), int(r[0].split("月")[1].rstrip("日")), r[1]))
save("60_镇机关干部自学登记表.xls", "龙凤场镇机关干部2021年自学登记表",
     ["日期", "姓名", "村(社区)", "学习内容", "学习形式", "学时"], rows)
rows = []
for n in village_people["龙凤村"][:5]:
    for _ in range(random.randint(4, 8)):
        rows.append(["2021.%d.%d" % (random.randint(1, 12), random.randint(1, 28)), n,
                     random.choice(readings), random.choice(forms), "%s学时" % random.choice([1, 2])])
save("61_龙凤村干部自学登记表.xls", "龙凤村2021年村干部自学登记表",
     ["日期", "姓名", "学习内容", "学习形式", "学时"], rows)
