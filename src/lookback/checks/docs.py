"""`docs/rules.md`, generated from the rule declarations (`lookback rules --output docs/rules.md`), so
the catalogue page, the export and the documentation can never say different things."""

from __future__ import annotations

from lookback.checks.catalogue import DIMENSIONS, all_rules, format_value


def markdown() -> str:
    rules = all_rules()
    lines = [
        "# 规则目录（Rule catalogue）",
        "",
        "<!-- 由 `lookback rules --output docs/rules.md` 从规则声明生成，请勿手工编辑。 -->",
        "",
        "每条规则对应《福州市稳定脱贫“回头看”工作方案》（榕扶办〔2018〕80号）第二部分的一项内容，按活动的基准日期判断，"
        "用一条集合式 SQL 查询找出不符合的对象。参数取自活动设置，未设置时使用下表的默认值。"
        "依赖部门名单或国扶系统快照的规则，在相应数据导入前不运行（而不是把所有人都列为问题）。",
        "",
        f"共 {len(rules)} 条规则。",
        "",
        "| 代码 | 条款 | 维度 | 类别（topic） | 对象 | 严重程度 | 名称 |",
        "|---|---|---|---|---|---|---|",
    ]
    for rule in rules:
        lines.append(
            f"| [{rule.code}](#{rule.code.lower()}) | {rule.clause} | {rule.dimension_label} | `{rule.topic}` "
            f"| {rule.subject_label} | {rule.severity_label} | {rule.title} |"
        )
    lines.append("")
    for dimension, (clause, label) in DIMENSIONS.items():
        group = [rule for rule in rules if rule.dimension == dimension]
        lines += [f"## {clause} {label}", ""]
        if not group:
            lines += ["（本维度的规则随资金项目和问题台帐功能提供。）", ""]
            continue
        for rule in group:
            lines += [f"### {rule.code}", "", f"**{rule.title}**", "", str(rule.explanation), ""]
            lines.append(f"- 条款：{rule.clause}　类别：`{rule.topic}`　对象：{rule.subject_label}")
            lines.append(f"- 严重程度：{rule.severity_label}")
            for param in rule.params:
                lines.append(f"- 参数 `{param.name}`（{param.label}）：默认 {format_value(param.default)}")
            for use in rule.uses:
                lines.append(f"- 依据：{use}")
            if rule.requires_lists:
                lines.append("- 需要部门名单：" + "、".join(f"`{kind}`" for kind in rule.requires_lists))
            if rule.requires_snapshot:
                lines.append("- 需要国扶系统快照")
            lines.append("")
    return "\n".join(lines)
