"""JUnit XML of a run's verdict: one test case per gate check, one per regressed example (CI systems show both)."""

from xml.etree import ElementTree as ET

from goldloop.evaluate import EvalResult


def junit_xml(result: EvalResult, *, dataset: str) -> bytes:
    run = result.run
    verdict = run.get("verdict") or {}
    checks = verdict.get("checks") or []
    suite = ET.Element("testsuite", name=f"goldloop eval {dataset}", tests="0", failures="0")
    ET.SubElement(ET.SubElement(suite, "properties"), "property", name="run", value=str(run["id"]))
    failures = tests = 0
    for check in checks:
        tests += 1
        case = ET.SubElement(suite, "testcase", classname="goldloop.gates", name=check["gate"])
        if not check["passed"]:
            failures += 1
            ET.SubElement(case, "failure", message=check["reason"]).text = check["reason"]
    for row in result.regressed:
        tests += 1
        failures += 1
        case = ET.SubElement(suite, "testcase", classname="goldloop.regressions", name=str(row["example_id"]))
        message = f"regressed on {', '.join(row['regressed'])} (passed in baseline run {run.get('baseline')})"
        failure = ET.SubElement(case, "failure", message=message)
        failure.text = f"expected: {row['expected']!r}\noutput: {row['output']!r}"
    if not tests:
        ET.SubElement(suite, "testcase", classname="goldloop.gates", name="run succeeded")
        tests = 1
    suite.set("tests", str(tests))
    suite.set("failures", str(failures))
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True)
