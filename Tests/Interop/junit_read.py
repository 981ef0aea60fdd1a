#!/usr/bin/env python3
"""Reads a JUnit XML file with junitparser (a real JUnit consumer, from PyPI) and prints what it
understood as JSON: per suite its name and counts, and each case's name, result and message; and
`schema_errors`: what `xmlschema` finds against each Jenkins JUnit schema (junit-10.xsd) that
scripts/setup.sh put in .deps/junit-xsd (an empty list: valid; `schemas`: how many were used).

Usage: junit_read.py FILE
"""
import glob
import json
import os
import sys

import xmlschema

from junitparser import Error, Failure, JUnitXml, Skipped

xml = JUnitXml.fromfile(sys.argv[1])
suites = []
for suite in xml:
    cases = []
    for case in suite:
        results = case.result
        kind = "passed"
        message = None
        for r in results:
            if isinstance(r, Failure):
                kind, message = "failure", r.message
            elif isinstance(r, Error):
                kind, message = "error", r.message
            elif isinstance(r, Skipped):
                kind = "skipped"
        cases.append({"name": case.name, "classname": case.classname, "result": kind, "message": message,
                      "system_out": case.system_out})
    suite.update_statistics()
    suites.append({"name": suite.name, "tests": suite.tests, "failures": suite.failures, "errors": suite.errors,
                   "properties": {p.name: p.value for p in suite.properties()}, "cases": cases})
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".deps", "junit-xsd")
schemas = sorted(glob.glob(os.path.join(root, "*.xsd")))
errors = []
for path in schemas:
    for e in xmlschema.XMLSchema(path).iter_errors(sys.argv[1]):
        errors.append(f"{os.path.basename(path)}: {e.reason} at {e.path}")
print(json.dumps({"suites": suites, "schemas": len(schemas), "schema_errors": errors}))
