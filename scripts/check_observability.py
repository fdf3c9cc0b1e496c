#!/usr/bin/env python3
"""Checks that promtool cannot do for the observability assets.

Called by scripts/check-rules.sh with the repository root. Prints every
problem and exits 1 if there is any.
"""
import json
import re
import sys
from pathlib import Path

import yaml

SEVERITIES = {"critical", "warning", "info"}
RUNBOOK_URL = re.compile(r"^docs/runbook\.md#([a-z0-9-]+)$")
# Words in PromQL that look like metric names but are not.
KEYWORDS = {
    "and", "or", "unless", "by", "without", "on", "ignoring", "group_left",
    "group_right", "bool", "offset", "inf", "nan", "start", "end",
    "sum", "min", "max", "avg", "count", "stddev", "stdvar", "topk", "bottomk",
    "quantile", "count_values", "group", "limitk", "limit_ratio",
}
SUFFIXES = ("_bucket", "_sum", "_count", "_max")
# Rule files that record series under another exporter's names, for that
# exporter's dashboards and alerts: the pattern those names follow. Their other
# records (helpers) still follow level:metric:operation, every record must be
# asserted by a promtool test, and every foreign name must appear in
# docs/metrics.md (the compatibility section).
COMPAT_RULE_FILES = {
    "dcgm-compat.rules.yaml": re.compile(r"^DCGM_(FI|EXP)_[A-Z0-9_]+$"),
}

problems = []


def problem(where, text):
    problems.append(f"{where}: {text}")


def catalogue(root):
    """Metric names: first column, in backticks, of the tables in docs/metrics.md."""
    names = set()
    for line in (root / "docs/metrics.md").read_text().splitlines():
        m = re.match(r"^\|\s*`([a-zA-Z_][a-zA-Z0-9_]*)`\s*\|", line)
        if m:
            names.add(m.group(1))
    if not names:
        problem("docs/metrics.md", "no metric table found")
    return names


def external(path):
    names = set()
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            names.add(line)
    return names


def metric_names(expr):
    """Metric names used by a PromQL expression (regex-based, good enough for ours)."""
    s = re.sub(r'"(?:\\.|[^"\\])*"', '""', expr)
    s = re.sub(r"'(?:\\.|[^'\\])*'", "''", s)
    s = re.sub(r"`[^`]*`", "``", s)
    s = re.sub(r"\$\{[^}]*\}|\$\w+", "1", s)          # Grafana variables
    s = re.sub(r"\{[^}]*\}", "", s)                    # label matchers
    s = re.sub(r"\[[^\]]*\]", "", s)                   # ranges and subqueries
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?", s):
        name, call = m.group(1), m.group(2)
        if call or name.lower() in KEYWORDS or ":" in name:
            continue
        names.add(name)
    return names


def check_names(where, expr, known):
    for name in sorted(metric_names(expr)):
        if name in known:
            continue
        base = next((name[: -len(x)] for x in SUFFIXES if name.endswith(x)), None)
        if base and base in known:
            continue
        problem(where, f"metric {name} is neither in docs/metrics.md nor in external-metrics.txt")


def github_anchor(heading):
    slug = heading.strip().lower()
    slug = re.sub(r"[^\w\- ]", "", slug)
    return slug.replace(" ", "-")


def runbook_anchors(root):
    anchors = set()
    for line in (root / "docs/runbook.md").read_text().splitlines():
        m = re.match(r"^#{1,6}\s+(.*)$", line)
        if m:
            anchors.add(github_anchor(m.group(1)))
        anchors.update(re.findall(r'<a (?:id|name)="([^"]+)"', line))
    return anchors


def check_rule_file(path, rel, anchors, known, promql, groups=None, records=None, documented=""):
    doc = yaml.safe_load(path.read_text())
    alerts = set()
    if not isinstance(doc, dict) or not isinstance(doc.get("groups"), list):
        problem(rel, "no groups")
        return alerts
    foreign = COMPAT_RULE_FILES.get(path.name)
    for group in doc["groups"]:
        gname = group.get("name")
        if groups is not None:
            groups.append(gname)
        if not gname:
            problem(rel, "group without a name")
        for rule in group.get("rules") or []:
            expr = rule.get("expr")
            name = rule.get("alert") or rule.get("record")
            where = f"{rel} {gname}/{name}"
            if not name or not expr:
                problem(where, "rule needs alert or record, and expr")
                continue
            if promql:
                check_names(where, expr, known)
            if "record" in rule:
                if records is not None:
                    records.add(rule["record"])
                if foreign is not None and foreign.match(rule["record"]):
                    if f"`{rule['record']}`" not in documented:
                        problem(where, "a compatibility series must be documented in docs/metrics.md")
                elif ":" not in rule["record"]:
                    problem(where, "recording rule names follow level:metric:operation")
                continue
            alerts.add(name)
            labels = rule.get("labels") or {}
            notes = rule.get("annotations") or {}
            if labels.get("severity") not in SEVERITIES:
                problem(where, f"labels.severity must be one of {sorted(SEVERITIES)}")
            if not notes.get("summary"):
                problem(where, "annotations.summary missing")
            if not re.search(r"\{\{\s*\$value\s*\|\s*humanize", notes.get("description", "")):
                problem(where, "annotations.description must show {{ $value | humanize... }}")
            m = RUNBOOK_URL.match(notes.get("runbook_url", ""))
            if not m:
                problem(where, "annotations.runbook_url must be docs/runbook.md#<anchor>")
            elif m.group(1) not in anchors:
                problem(where, f"docs/runbook.md has no section #{m.group(1)}")
    return alerts


def check_tests(files_dir, root, alerts, groups, compat_records):
    """groups: rule file path -> its groups in file order; compat_records: path -> records."""
    fires, quiet = set(), set()
    tested = {path: set() for path in compat_records}
    for path in sorted((files_dir / "prometheus/tests").glob("*.test.yaml")):
        doc = yaml.safe_load(path.read_text())
        loaded = [(path.parent / f).resolve() for f in doc.get("rule_files") or []]
        unknown = [str(f) for f in loaded if f not in groups]
        if unknown or not loaded:
            problem(path.name, f"rule_files must name rule files of prometheus/: {unknown or 'none'}")
        expected = [g for f in loaded for g in groups.get(f, [])]
        # Without a full order promtool evaluates groups in random order: flaky values.
        if doc.get("group_eval_order") != expected:
            problem(path.name, f"group_eval_order must list the rule groups in file order: {expected}")
        for case in doc.get("tests") or []:
            for t in case.get("alert_rule_test") or []:
                (fires if t.get("exp_alerts") else quiet).add(t.get("alertname"))
            for t in case.get("promql_expr_test") or []:
                for f in loaded:
                    if f in tested:
                        tested[f].update(re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", t.get("expr", "")))
    for f, records in compat_records.items():
        for r in sorted(records - tested[f]):
            problem("prometheus/tests", f"no promql_expr_test asserts {r} of {f.name}")
    for a in sorted(alerts):
        if a not in fires:
            problem("prometheus/tests", f"no test where {a} fires")
        if a not in quiet:
            problem("prometheus/tests", f"no test where {a} does not fire")
    for a in sorted((fires | quiet) - alerts):
        problem("prometheus/tests", f"test names unknown alert {a}")


def promql_for_promtool(expr):
    """A dashboard expression with Grafana's variables replaced, for promtool to parse."""
    expr = expr.replace("$__rate_interval", "5m").replace("$__range", "1h").replace("$__interval", "1m")
    return re.sub(r"\$\{?\w+\}?", "x", expr)


def panels(dashboard):
    for p in dashboard.get("panels") or []:
        yield p
        for inner in p.get("panels") or []:
            yield inner


def check_dashboard(path, rel, known, uids, exprs):
    d = json.loads(path.read_text())
    for key in ("uid", "title", "schemaVersion", "templating", "panels"):
        if key not in d:
            problem(rel, f"missing {key}")
    uid = d.get("uid")
    if uid in uids:
        problem(rel, f"uid {uid} used by {uids[uid]} too")
    uids[uid] = rel
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    ds = variables.get("datasource")
    if not ds or ds.get("type") != "datasource" or ds.get("query") != "prometheus":
        problem(rel, "needs a datasource variable of type datasource, query prometheus")
    for v in variables.values():
        if v.get("type") != "query":
            continue
        if (v.get("datasource") or {}).get("uid") != "${datasource}":
            problem(rel, f"variable {v.get('name')} must use ${{datasource}}")
        q = v.get("query")
        q = q.get("query", "") if isinstance(q, dict) else (q or "")
        m = re.match(r"^\s*label_values\((.*),\s*\w+\s*\)\s*$", q)
        if m:
            q = m.group(1)
        elif re.match(r"^\s*label_values\(\s*\w+\s*\)\s*$", q):
            q = ""
        else:
            q = re.sub(r"^\s*query_result\((.*)\)\s*$", r"\1", q)
        check_names(f"{rel} variable {v.get('name')}", q, known)
    ids = set()
    for p in panels(d):
        pid = p.get("id")
        if pid in ids:
            problem(rel, f"panel id {pid} used twice")
        ids.add(pid)
        if p.get("type") in ("row", "text"):
            continue
        where = f"{rel} panel {p.get('title')!r}"
        if (p.get("datasource") or {}).get("uid") != "${datasource}":
            problem(where, "datasource must be ${datasource}")
        if not p.get("targets"):
            problem(where, "no targets")
        for t in p.get("targets") or []:
            if not t.get("expr"):
                problem(where, "target without expr")
                continue
            check_names(where, t["expr"], known)
            exprs.append((where, promql_for_promtool(t["expr"])))


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    files_dir = root / "charts/gpu-telemetry/files"
    known = catalogue(root) | external(files_dir / "external-metrics.txt")
    anchors = runbook_anchors(root)

    documented = (root / "docs/metrics.md").read_text()
    alerts, groups, compat_records = set(), {}, {}
    for path in sorted((files_dir / "prometheus").glob("*.rules.yaml")):
        path = path.resolve()
        groups[path], records = [], set()
        alerts |= check_rule_file(path, str(path.relative_to(root)), anchors, known, promql=True,
                                  groups=groups[path], records=records, documented=documented)
        if path.name in COMPAT_RULE_FILES:
            compat_records[path] = records
    check_tests(files_dir, root, alerts, groups, compat_records)
    for path in sorted((files_dir / "loki").glob("*.yaml")):
        check_rule_file(path, str(path.relative_to(root)), anchors, known, promql=False)
    uids, exprs = {}, []
    for path in sorted((files_dir / "dashboards").glob("*.json")):
        check_dashboard(path, str(path.relative_to(root)), known, uids, exprs)
    if len(sys.argv) > 2:
        # Dashboard queries as recording rules, so that promtool parses them.
        rules = [{"record": f"dashboard:query{i}:check", "expr": e} for i, (_, e) in enumerate(exprs)]
        Path(sys.argv[2]).write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))

    for p in problems:
        print("  " + p)
    if problems:
        print(f"{len(problems)} problem(s)")
        return 1
    print(f"  ok: {len(alerts)} Prometheus alerts, {len(uids)} dashboards, {len(known)} known metrics")
    return 0


if __name__ == "__main__":
    sys.exit(main())
